"""Swagger UI at ``/docs``, served from assets in the package: no CDN, so it works offline.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script, which
the Content-Security-Policy (see :mod:`handoffs.api.edge`) rightly refuses. This page loads
the vendored files of ``api/static/swagger`` and a start-up script beside them.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["install"]

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Handoffs API - Swagger UI</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/docs.js"></script>
</body>
</html>
"""
_REDIRECT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Swagger UI: OAuth2 redirect</title></head>
<body><script src="/docs/static/oauth2-redirect.js"></script></body>
</html>
"""


def install(api: FastAPI) -> None:
    """Serve ``/docs``, its OAuth2 redirect page and ``/docs/static`` on ``api``."""
    static = files("handoffs.api").joinpath("static", "swagger")
    api.mount("/docs/static", StaticFiles(directory=str(static)), name="swagger-static")

    @api.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_PAGE)

    @api.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return HTMLResponse(_REDIRECT)
