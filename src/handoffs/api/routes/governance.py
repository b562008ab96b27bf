"""Governance endpoints: the OAuth2 token endpoint and the API catalog."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any
from urllib.parse import parse_qs

import orjson
from fastapi import APIRouter, Request

from handoffs.api.catalog import INTERFACES
from handoffs.api.deps import SCOPES, Ctx, jwt_secret
from handoffs.api.problems import Problem, Unauthorized
from handoffs.api.routes import problems
from handoffs.api.schemas import CatalogEntry, TokenOut
from handoffs.api.tokens import hash_key, sign_jwt
from handoffs.store.repositories.api_clients import ApiClientRepository

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["governance"])

_TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string", "description": "An API key of the client."},
                        "scope": {"type": "string", "description": "Space-separated; default all granted."},
                    },
                }
            }
        },
    }
}


class _BadRequest(Problem):
    status, slug = 400, "oauth-error"


def _form(raw: bytes, content_type: str) -> dict[str, str]:
    if content_type.startswith("application/json"):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}
    try:
        return {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        return {}


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


@router.post(
    "/oauth/token",
    response_model=TokenOut,
    openapi_extra=_TOKEN_BODY,
    responses=problems(400, 401, 413, 422, 500),
)
async def token(request: Request, ctx: Ctx) -> TokenOut:
    """OAuth2 client credentials (RFC 6749 §4.4): an API key buys a short-lived JWT access token.

    Authenticate with HTTP Basic (``client_id:api key``) or ``client_id``/``client_secret``
    form fields. Exempt from ``Idempotency-Key``: asking twice just yields two tokens.
    """
    form = _form(await request.body(), request.headers.get("content-type", ""))
    if form.get("grant_type") != "client_credentials":
        raise _BadRequest("grant_type must be client_credentials", error="unsupported_grant_type")
    basic = _basic(request.headers.get("authorization"))
    client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
    import anyio.to_thread

    def issue() -> TokenOut:
        with ctx.app.uow() as uow:
            repo = ApiClientRepository(uow.connection, uow.now)
            key = repo.key_by_hash(hash_key(secret)) if secret else None
            client = repo.client(client_id) if key is not None else None
        if key is None or client is None or key.revoked_at is not None or key.client_id != client_id:
            raise Unauthorized("the client credentials are not valid", error="invalid_client")
        asked = set(form.get("scope", "").split()) or set(client.scopes)
        if not asked <= client.scopes:
            raise _BadRequest("a requested scope is not granted to this client", error="invalid_scope")
        now = int(ctx.now())
        ttl = ctx.settings.token_ttl
        claims: dict[str, Any] = {
            "sub": client.id,
            "kid": key.id,
            "scope": " ".join(sorted(asked)),
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_hex(8),
        }
        return TokenOut(access_token=sign_jwt(claims, jwt_secret(ctx)), expires_in=ttl, scope=claims["scope"])

    return await anyio.to_thread.run_sync(issue)


@router.get("/catalog", response_model=list[CatalogEntry], responses=problems(400, 500))
def catalog() -> list[CatalogEntry]:
    """Every interface of this API with its owner, version and lifecycle (public)."""
    return INTERFACES


@router.get("/scopes", response_model=dict[str, str], responses=problems(400, 500))
def scopes() -> dict[str, str]:
    """The scopes a client can hold (public). A client may also be limited to some legal entities."""
    return SCOPES
