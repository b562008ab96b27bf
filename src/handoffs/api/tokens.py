"""API keys, and JWT access tokens signed and checked with PyJWT.

An API key looks like ``hk_live_<key id>_<secret>``: the ``hk_live_<key id>`` prefix
identifies it in lists and logs; only the SHA-256 of the whole key is stored (keys carry
256 bits of randomness, so a fast hash is the right tool, as for GitHub and Stripe keys).

Access tokens are JWTs (RFC 7519) signed with HMAC-SHA256 under a key derived from the
hub's master secret (never stored in the database). A token is accepted only when it is
``HS256`` (the algorithm is pinned, whatever the header says), its signature holds, and it
carries ``exp``, ``iat``, ``iss`` = :data:`ISSUER`, ``aud`` = :data:`AUDIENCE`, ``sub`` and
``kid`` (the API key it was bought with), with :data:`LEEWAY` seconds of clock skew allowed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

__all__ = [
    "ALGORITHM",
    "AUDIENCE",
    "ISSUER",
    "KEY_PREFIX",
    "LEEWAY",
    "SIGNING_PURPOSE",
    "NewKey",
    "TokenError",
    "hash_key",
    "new_key",
    "sign_jwt",
    "verify_jwt",
]

KEY_PREFIX = "hk_live_"
ALGORITHM = "HS256"
ISSUER = "handoffs"
AUDIENCE = "handoffs-api"
LEEWAY = 30  # seconds of clock skew between the hub's processes
SIGNING_PURPOSE = "jwt-signing"  # the keyring purpose of the signing key
_REQUIRED = ["exp", "iat", "iss", "aud", "sub", "kid"]


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    prefix: str
    secret: str  # the whole key: shown once, never stored
    digest: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> NewKey:
    key_id = secrets.token_hex(6)
    prefix = f"{KEY_PREFIX}{key_id}"
    whole = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id, prefix, whole, hash_key(whole))


class TokenError(Exception):
    """A token that is malformed, badly signed, expired or not for us (callers never see why)."""


def sign_jwt(claims: dict[str, Any], key: bytes) -> str:
    """``claims`` as an HS256 access token of this hub (``iss`` and ``aud`` are set here)."""
    return jwt.encode({**claims, "iss": ISSUER, "aud": AUDIENCE}, key, algorithm=ALGORITHM)


def verify_jwt(token: str, key: bytes) -> dict[str, Any]:
    """The claims of a valid, unexpired access token of this hub; raises :class:`TokenError`."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": _REQUIRED, "strict_aud": True},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(type(exc).__name__) from None
    return claims
