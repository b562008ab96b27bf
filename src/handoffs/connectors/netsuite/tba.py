"""NetSuite token-based authentication (TBA): every request signed with OAuth 1.0a, HMAC-SHA256.

As NetSuite documents it ("The Authorization Headers" / "Using TBA for RESTlets and REST web
services", docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534941295.html):
each request carries ``Authorization: OAuth realm="<ACCOUNT_ID>", oauth_consumer_key,
oauth_token, oauth_signature_method="HMAC-SHA256", oauth_timestamp, oauth_nonce,
oauth_version="1.0", oauth_signature``; the signature is RFC 5849's over the method, the URL
with its query parameters and the ``oauth_*`` parameters, keyed by ``consumer_secret&
token_secret``. The realm is the account id in upper case, ``_`` for a sandbox's ``-``.
Tokens have no expiry and no refresh: they last until revoked, so a 401 is terminal.

``oauthlib`` does the signing; a fresh nonce and timestamp are made for every request,
including each retry, because NetSuite refuses a nonce it has seen.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from handoffs.connectors.secrets import Secret
from handoffs.engine.errors import TerminalError

__all__ = ["NetSuiteTba", "NetSuiteTokenAuth", "realm_of"]


def realm_of(account: str) -> str:
    """NetSuite's realm for an account id: ``1234567-sb1`` → ``1234567_SB1``."""
    return account.strip().upper().replace("-", "_")


@dataclass(frozen=True, slots=True)
class NetSuiteTba:
    """One TBA credential set: the integration record's consumer and a user's access token."""

    account: str
    consumer_key: Secret
    consumer_secret: Secret
    token_id: Secret
    token_secret: Secret


class NetSuiteTokenAuth(httpx.Auth):
    """Signs every request with the integration's consumer and the role's access token."""

    def __init__(self, tba: NetSuiteTba) -> None:
        self.tba = tba

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        t = self.tba
        client = Client(
            t.consumer_key.reveal(),
            client_secret=t.consumer_secret.reveal(),
            resource_owner_key=t.token_id.reveal(),
            resource_owner_secret=t.token_secret.reveal(),
            signature_method=SIGNATURE_HMAC_SHA256,
            realm=realm_of(t.account),
        )
        # The JSON body is not part of the signature (only form-encoded bodies are, RFC 5849 §3.4.1.3.1).
        _, headers, _ = client.sign(str(request.url), http_method=request.method)
        request.headers["Authorization"] = headers["Authorization"]
        response = yield request
        if response.status_code == 401:  # no refresh exists: the same credentials fail again
            raise TerminalError(
                f"NetSuite refused the token-based authentication for account {realm_of(t.account)} "
                "(401 invalid login attempt): check the account id, consumer key/secret and "
                "token id/secret, and that the token's role and integration have TBA enabled",
                category="auth",
            )
