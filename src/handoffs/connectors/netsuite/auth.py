"""NetSuite's OAuth 2.0 client credentials (machine to machine) with a signed JWT assertion.

The token request (NetSuite help, "POST Request to the Token Endpoint", section_162755359851)
is form-encoded: ``grant_type=client_credentials``, ``client_assertion_type=
urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and ``client_assertion``, a JWT
signed with the private key of the certificate mapped to the integration. Its header
carries ``kid`` = the certificate id and ``alg`` (PS256/384/512 or ES256/384/512); its
payload ``iss`` = the client id, ``scope``, ``aud`` = the token endpoint, ``iat`` and
``exp`` (less than 60 minutes apart) ("The Request Token Structure", section_162790605110).
PyJWT signs it (``cryptography`` backs the algorithms). The access token (about an hour) is
refreshed before it expires and once more on a 401, by :class:`OAuth2ClientCredentials`.
"""

from __future__ import annotations

import time

import httpx
import jwt

from handoffs.connectors.auth import OAuth2ClientCredentials
from handoffs.connectors.netsuite.config import NetSuiteConfig

__all__ = ["NetSuiteClientCredentials"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_SECONDS = 300  # an assertion is used at once; NetSuite allows up to 3600


class NetSuiteClientCredentials(OAuth2ClientCredentials):
    """Bearer tokens from NetSuite's token endpoint, asked for with a fresh signed assertion."""

    def __init__(self, config: NetSuiteConfig, leeway: float = 60.0) -> None:
        super().__init__(config.token_url, config.client_id, config.private_key, leeway=leeway)
        self.config = config

    def _token_request(self) -> httpx.Request:
        c, now = self.config, int(time.time())
        assertion = jwt.encode(
            {
                "iss": c.client_id,
                "scope": c.scope,
                "aud": c.token_url,
                "iat": now,
                "exp": now + ASSERTION_SECONDS,
            },
            c.private_key.reveal(),
            algorithm=c.algorithm,
            headers={"kid": c.certificate_id, "typ": "JWT"},
        )
        return httpx.Request(
            "POST",
            c.token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
        )
