"""API keys and JWT access tokens, with the standard library only.

An API key looks like ``hk_live_<key id>_<secret>``: the ``hk_live_<key id>`` prefix
identifies it in lists and logs; only the SHA-256 of the whole key is stored (keys carry
256 bits of randomness, so a fast hash is the right tool, as for GitHub and Stripe keys).

Access tokens are compact JWTs signed with HMAC-SHA256 (RFC 7519, ``alg: HS256``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["KEY_PREFIX", "NewKey", "TokenError", "hash_key", "new_key", "sign_jwt", "verify_jwt"]

KEY_PREFIX = "hk_live_"


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
    """A token that is malformed, badly signed or expired (the reason is not shown to callers)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_jwt(claims: dict[str, Any], secret: str) -> str:
    header = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    payload = _b64(orjson.dumps(claims))
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def verify_jwt(token: str, secret: str, now: float) -> dict[str, Any]:
    """The claims of a valid, unexpired HS256 token; raises :class:`TokenError` otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("not a JWT")
    try:
        header = orjson.loads(_unb64(parts[0]))
        expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            raise TokenError("unsupported algorithm")
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            raise TokenError("bad signature")
        claims = orjson.loads(_unb64(parts[1]))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise TokenError("malformed") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now:
        raise TokenError("expired")
    return claims
