"""FastAPI dependencies, as ``Annotated`` aliases: the context, the caller, its scope, its rate.

A caller authenticates with ``Authorization: Bearer <token>``, where the token is an API key
(``hk_live_...``) or an access token from ``POST /v1/oauth/token``. Every check that can fail
before a route runs (credentials, scope, rate) answers with problem+json.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from sqlalchemy import select

from handoffs.api.context import ApiContext, Principal
from handoffs.api.problems import Forbidden, TooManyRequests, Unauthorized
from handoffs.api.tokens import KEY_PREFIX, SIGNING_PURPOSE, TokenError, hash_key, verify_jwt
from handoffs.engine.ratelimit import RateLimit, take_shared_token
from handoffs.store.repositories.api_clients import ApiClientRepository
from handoffs.store.tables import rate_limits

__all__ = [
    "SCOPES",
    "Ctx",
    "EventsManage",
    "ExperienceRead",
    "MetricsRead",
    "ProcessWrite",
    "SystemRead",
    "SystemWrite",
    "jwt_secret",
]

SCOPES = {
    "system:read": "Read canonical objects.",
    "system:write": "Upsert canonical objects.",
    "process:write": "Run process commands (approvals, invoice runs, exceptions, replays).",
    "experience:read": "Read curated views (timesheets, invoice status, KPIs, lineage).",
    "events:manage": "Manage event subscriptions and redeliveries.",
    "metrics:read": "Scrape Prometheus metrics (GET /metrics; firm-wide clients only).",
}

_bearer = HTTPBearer(auto_error=False, description="An API key (hk_live_...) or an OAuth2 access token.")


def _ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(_ctx)]


def jwt_secret(ctx: ApiContext) -> bytes:
    """The access tokens' signing key: derived from the master secret, never stored."""
    return ctx.app.keyring().key(SIGNING_PURPOSE)


def _authenticate(ctx: ApiContext, token: str) -> Principal:
    key_id: str | None = None
    granted: frozenset[str] | None = None
    if not token.startswith(KEY_PREFIX):
        try:
            claims = verify_jwt(token, jwt_secret(ctx))
            key_id, granted = str(claims.get("kid", "")), frozenset(str(claims.get("scope", "")).split())
        except TokenError:
            raise Unauthorized("the access token is not valid or has expired") from None
    with ctx.app.uow() as uow:  # one short transaction; never nested (SQLite has one writer)
        repo = ApiClientRepository(uow.connection, uow.now)
        key = repo.key_by_hash(hash_key(token)) if key_id is None else repo.key(key_id)
        if key is None or key.revoked_at is not None:
            raise Unauthorized("the credentials are not valid, or were revoked")
        client = repo.client(key.client_id)
    if client is None:
        raise Unauthorized("the credentials are not valid, or were revoked")
    scopes = client.scopes if granted is None else client.scopes & granted
    return Principal(client.id, client.name, scopes, client.entities, key.id)


def _rate(ctx: ApiContext, request: Request, principal: Principal) -> None:
    with ctx.app.uow() as uow:
        client = ApiClientRepository(uow.connection, uow.now).client(principal.client_id)
        assert client is not None
        limit = RateLimit(rate=client.rate, burst=client.burst)
        key = f"api:{principal.client_id}"
        wait = take_shared_token(uow.connection, key, limit, ctx.now())
        tokens = uow.connection.execute(
            select(rate_limits.c.tokens).where(rate_limits.c.key == key)
        ).scalar_one()
        uow.commit()
    remaining = max(0, math.floor(tokens))
    reset = math.ceil(max(wait, (limit.burst - tokens) / limit.rate if remaining == 0 else 0))
    window = math.ceil(limit.burst / limit.rate)
    headers = {
        "RateLimit-Policy": f'"client";q={int(limit.burst)};w={window}',
        "RateLimit": f'"client";r={remaining};t={reset}',
    }
    request.state.extra_headers = {**getattr(request.state, "extra_headers", {}), **headers}
    if wait > 0:
        retry = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"rate limit reached; retry in {retry} s", headers={**headers, "Retry-After": str(retry)}
        )


def _principal(
    security: SecurityScopes,
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("send an API key or an access token as: Authorization: Bearer <token>")
    principal = _authenticate(ctx, credentials.credentials)
    _rate(ctx, request, principal)
    missing = [s for s in security.scopes if s not in principal.scopes]
    if missing:
        raise Forbidden(f"this client lacks the scope {' '.join(missing)}", required_scopes=missing)
    return principal


SystemRead = Annotated[Principal, Security(_principal, scopes=["system:read"])]
SystemWrite = Annotated[Principal, Security(_principal, scopes=["system:write"])]
ProcessWrite = Annotated[Principal, Security(_principal, scopes=["process:write"])]
ExperienceRead = Annotated[Principal, Security(_principal, scopes=["experience:read"])]
EventsManage = Annotated[Principal, Security(_principal, scopes=["events:manage"])]
MetricsRead = Annotated[Principal, Security(_principal, scopes=["metrics:read"])]
