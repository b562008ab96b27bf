"""The FastAPI application factory: built from a wired :class:`~handoffs.bootstrap.App`, never at import."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from handoffs.api import problems, swagger
from handoffs.api.context import ApiContext, ApiSettings
from handoffs.api.edge import BodyLimit, Edge
from handoffs.api.routes import events, experience, governance, metrics, process, system
from handoffs.bootstrap import App

__all__ = ["create_app"]

_DESCRIPTION = """
Handoffs' governed API, in three layers (system, process, experience) plus events out.

* **Authentication**: `Authorization: Bearer <API key or access token>`. Get an access token
  from `POST /v1/oauth/token` (client credentials). Scopes: see `/v1/scopes`. A client scoped
  to some legal entities gets 404 for everything else.
* **Every POST** needs an `Idempotency-Key` (except the token endpoint and signed webhooks).
* **Errors** are `application/problem+json` (RFC 9457).
* **Rate limits** per client: `RateLimit`, `RateLimit-Policy`; `429` with `Retry-After`.
* **Lifecycle**: see `/v1/catalog`; deprecated routes send `Deprecation`, `Sunset` and `Link`.
"""


def create_app(hub: App, settings: ApiSettings | None = None, *, console: bool = True) -> FastAPI:
    """Build the API for ``hub`` (its store, engine and ports), with the web console under ``/console``."""
    api = FastAPI(
        title="Handoffs API",
        version="1.0.0",
        description=_DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,  # served from the package by handoffs.api.swagger, not from a CDN
        redoc_url=None,
    )
    settings = settings or ApiSettings.from_env()
    api.state.ctx = ApiContext(hub, settings)
    problems.install(api)
    swagger.install(api)
    for module in (system, process, experience, events, governance, metrics):
        api.include_router(module.router)
    if console:
        from handoffs.console import mount

        mount(api, hub)

    api.add_middleware(BodyLimit, max_body=settings.max_request_bytes)  # innermost: see its docstring

    @api.middleware("http")
    async def governance_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in getattr(request.state, "extra_headers", {}).items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    api.add_middleware(Edge, max_body=settings.max_request_bytes)  # outermost: every answer gets its headers

    return api
