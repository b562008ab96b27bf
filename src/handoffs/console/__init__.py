"""The web console: server-rendered pages (Jinja2, htmx, inline SVG charts) on the API's app.

:func:`mount` adds it to a FastAPI application under ``/console`` (``/`` redirects there).
Users sign in with a role: viewer, operator or admin (see ``docs/console.md``).
"""

from __future__ import annotations

from importlib.resources import files
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from handoffs.bootstrap import App
from handoffs.console.auth import ConsoleContext, Denied

__all__ = ["ConsoleContext", "error_page", "mount"]


def error_page(request: Request, status: int, title: str, message: str) -> Response | None:
    """The console's error page for a request the edge or validation refused; None off the console."""
    if not request.url.path.startswith("/console"):
        return None
    from handoffs.console.render import page

    return page(request, "error.html", status, title=title, message=message)


def mount(api: FastAPI, hub: App, ctx: ConsoleContext | None = None) -> None:
    """Serve the console for ``hub`` on ``api``: pages, forms and static files."""
    from handoffs.console import forms, pages, queue
    from handoffs.console.render import page

    api.state.console = ctx or ConsoleContext(hub)
    api.state.error_page = error_page
    api.include_router(queue.router)
    api.include_router(forms.router)
    api.include_router(pages.router)
    static = files("handoffs.console").joinpath("static")
    api.mount("/console/static", StaticFiles(directory=str(static)), name="console-static")

    @api.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    @api.get("/console", include_in_schema=False)
    def console_root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    async def denied(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Denied)
        if exc.kind == "login":
            target = (
                f"/console/login?next={exc.message}"
                if unquote(exc.message) != "/console/"
                else "/console/login"
            )
            response: Response = RedirectResponse(target, status_code=303)
            if request.headers.get("HX-Request"):
                response.headers["HX-Redirect"] = target
            return response
        return page(request, "error.html", 403, title="Not allowed", message=exc.message)

    api.add_exception_handler(Denied, denied)
