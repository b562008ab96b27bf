"""RFC 9457 problem details: every error the API returns, and nothing more than it should say.

    Problem (an HTTP error to show the caller)
     ├── NotFound        404, also for another legal entity's objects (never 403: ids stay hidden)
     ├── Unauthorized    401, with WWW-Authenticate
     ├── Forbidden       403, a missing scope
     ├── Conflict        409
     ├── Unprocessable   422
     └── TooManyRequests 429, with Retry-After

Unexpected exceptions become a bare 500 problem: the class name and message stay in the
server log, never in the response. An app may set ``state.error_page`` (the console does) to
answer invalid requests on its own paths with a page instead; see :mod:`handoffs.api.edge`
for what is refused before any route runs (413, NUL in the URL).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "PROBLEM_TYPE",
    "Conflict",
    "Forbidden",
    "NotFound",
    "Problem",
    "TooManyRequests",
    "Unauthorized",
    "Unprocessable",
    "install",
    "problem_response",
]

PROBLEM_TYPE = "application/problem+json"
_log = logging.getLogger("handoffs.api")


class Problem(Exception):
    """An error response: ``status``, a short ``title``, a ``detail`` for this occurrence."""

    status = 400
    slug = "bad-request"

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions

    def body(self, instance: str) -> dict[str, Any]:
        return problem_body(self.status, self.detail, instance, slug=self.slug, **self.extensions)


class NotFound(Problem):
    status, slug = 404, "not-found"


class Unauthorized(Problem):
    status, slug = 401, "unauthorized"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="handoffs"'}, **extensions)


class Forbidden(Problem):
    status, slug = 403, "forbidden"


class Conflict(Problem):
    status, slug = 409, "conflict"


class Unprocessable(Problem):
    status, slug = 422, "unprocessable"


class TooManyRequests(Problem):
    status, slug = 429, "rate-limited"


def problem_body(
    status: int, detail: str, instance: str, *, slug: str | None = None, **extensions: Any
) -> dict[str, Any]:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": f"https://handoffs.dev/problems/{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update(extensions)
    return body


def problem_response(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=dict(headers or {}))


def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.body(request.url.path), exc.headers)


def _allowed(request: Request) -> str | None:
    """Every method the spec documents for this path (a router answers 405 with only its own)."""
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            return ", ".join(sorted(m.upper() for m in operations))
    return None


_PAGES = {
    404: ("Not found", "There is no console page at this address."),
    405: ("Not allowed", "This page cannot be used that way."),
}


def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    hook = getattr(request.app.state, "error_page", None)  # a console address answers with a page
    found = (
        hook(request, exc.status_code, *_PAGES[exc.status_code])
        if hook and exc.status_code in _PAGES
        else None
    )
    if found is not None:
        return found  # type: ignore[no-any-return]
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allowed := _allowed(request)):
        headers["Allow"] = allowed
    return problem_response(exc.status_code, problem_body(exc.status_code, detail, request.url.path), headers)


def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    hook = getattr(request.app.state, "error_page", None)  # the console's pages answer with a page
    if hook is not None:
        in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
        status, title, message = (
            (404, "Not found", "The address names nothing that can exist.")
            if in_path
            else (400, "Bad request", "A field is too long or holds a character that cannot be stored.")
        )
        if (page := hook(request, status, title, message)) is not None:
            return page  # type: ignore[no-any-return]
    errors = [
        {"location": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    body = problem_body(
        422, "the request is not valid", request.url.path, slug="invalid-request", errors=errors
    )
    return problem_response(422, body)


def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    body = problem_body(500, "the server could not complete the request", request.url.path, slug="internal")
    return problem_response(500, body)


def install(app: FastAPI) -> None:
    """Route every error through problem+json."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(Exception, _on_unexpected)
