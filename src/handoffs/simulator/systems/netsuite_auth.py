"""The simulated NetSuite's OAuth 2.0 client-credentials (machine-to-machine) token endpoint.

As NetSuite documents it ("POST Request to the Token Endpoint and the Access Token Response",
"The Request Token Structure", docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/
section_162755359851.html and section_162790605110.html):

* ``POST /services/rest/auth/oauth2/v1/token``, form-encoded, ``grant_type=client_credentials``,
  ``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and
  ``client_assertion`` = a JWT signed with the private key of the certificate mapped to the
  integration;
* the JWT header has ``typ: JWT``, ``alg`` one of PS256/PS384/PS512/ES256/ES384/ES512 and
  ``kid`` = the certificate id; its payload ``iss`` = the integration's client id, ``scope``
  (``rest_webservices`` among them), ``aud`` = the token endpoint, ``iat`` and ``exp`` no more
  than 60 minutes apart;
* the answer is ``{access_token, token_type: bearer, expires_in: "3600"}``; the token then
  goes in ``Authorization: Bearer``. An expired or unknown token gets 401 ``INVALID_LOGIN``.

The signature is checked with PyJWT against the certificate's public key. The simulator's
own key pair is made on first use (never at import) and is not a secret of anything real.
"""

from __future__ import annotations

import secrets
import time
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "ALGORITHMS",
    "NETSUITE_CERTIFICATE_ID",
    "NETSUITE_CLIENT_ID",
    "TOKEN_PATH",
    "TokenIssuer",
    "sim_key_pair",
]

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 - a URL path, not a credential
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
NETSUITE_CLIENT_ID = "sim-netsuite-client-id"
NETSUITE_CERTIFICATE_ID = "sim-netsuite-certificate"


@cache
def sim_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of the simulator's made-up certificate (P-256, for ES256)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class TokenIssuer:
    """Checks client assertions and hands out access tokens that expire."""

    def __init__(self, certificates: dict[str, str] | None, client_id: str, lifetime: float = 3600.0) -> None:
        self.certificates = (
            certificates if certificates is not None else {NETSUITE_CERTIFICATE_ID: sim_key_pair()[1]}
        )
        self.client_id, self.lifetime = client_id, lifetime
        self.tokens: dict[str, float] = {}  # access token -> monotonic expiry
        self.issued = 0

    def issue(self, form: dict[str, Any], audience: str) -> tuple[int, dict[str, Any]]:
        """(status, body) for one token request."""
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_assertion_type") != ASSERTION_TYPE
        ):
            return 400, {"error": "unsupported_grant_type"}
        assertion = str(form.get("client_assertion") or "")
        try:
            header = jwt.get_unverified_header(assertion)
            public = self.certificates.get(str(header.get("kid")))
            if public is None or header.get("alg") not in ALGORITHMS:
                return 400, {"error": "invalid_client"}
            claims = jwt.decode(
                assertion,
                public,
                algorithms=list(ALGORITHMS),
                audience=audience,
                issuer=self.client_id,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )
        except jwt.PyJWTError:
            return 400, {"error": "invalid_grant"}
        scope = claims["scope"]
        scopes = scope if isinstance(scope, list) else str(scope).split(",")
        if int(claims["exp"]) - int(claims["iat"]) > 3600 or "rest_webservices" not in scopes:
            return 400, {"error": "invalid_grant"}
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + self.lifetime
        self.issued += 1
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": str(int(self.lifetime))}

    def valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        expires = self.tokens.get(authorization[7:])
        return expires is not None and time.monotonic() < expires
