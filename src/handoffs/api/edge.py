"""The server's edge: checks every request gets before any route reads it, and headers every answer gets.

* A body larger than ``max_body`` bytes is refused with ``413`` before it is read: at once
  when ``Content-Length`` says so, and as soon as the bytes received pass the limit when
  it does not (chunked bodies), so no route or parser ever holds more than the limit.
* A path or query string holding a NUL character is refused with ``400``: no database
  stores it, and no identifier or filter needs it.
* Every response carries a Content-Security-Policy (same-origin scripts and styles only,
  no inline code), ``X-Frame-Options``, ``X-Content-Type-Options`` and ``Referrer-Policy``.

It is plain ASGI middleware, so it also guards routes that read the raw body themselves
(the token endpoint, inbound webhooks) and the console's forms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import HTTPException  # FastAPI re-raises its own kind from a body read, keeping the 413
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handoffs.api.problems import problem_body, problem_response

__all__ = ["DEFAULT_MAX_BODY", "SECURITY_HEADERS", "BodyLimit", "Edge", "ErrorPage"]

DEFAULT_MAX_BODY = 1024 * 1024
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
ErrorPage = Callable[[Request, int, str, str], Response | None]
"""Renders an error as a page for paths it owns (the console), or returns None for the API's problem."""


class _TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _has_nul(scope: Scope) -> bool:
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    query = scope.get("query_string", b"")
    return b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(query.replace(b"+", b" "))


class _Middleware:
    """Plain ASGI middleware over ``app`` for HTTP requests, with the body limit it enforces."""

    def __init__(self, app: ASGIApp, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class Edge(_Middleware):
    """Outermost: URL and declared-size checks on the way in, security headers on the way out."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        if _has_nul(scope):
            await _refuse(scope, receive, send_with_headers, 400, "Bad request", "NUL in the URL")
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body:
            detail = f"the request body is larger than {self.max_body} bytes"
            await _refuse(scope, receive, send_with_headers, 413, "Too large", detail)
            return
        await self.app(scope, receive, send_with_headers)


class BodyLimit(_Middleware):
    """Innermost: counts the bytes of a body as they arrive (chunked or not) and fails the read
    with 413 once they pass ``max_body``.

    Innermost because a ``BaseHTTPMiddleware`` between it and the route would wrap the
    error in an exception group, and the route's body parser would report a 400 instead.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge(self.max_body)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except _TooLarge as exc:  # raised where no handler turned it into a response
            if started:
                raise
            await _refuse(scope, receive, send, 413, "Too large", str(exc.detail))


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, title: str, detail: str) -> None:
    """Answer with the console's error page on its paths, a problem elsewhere; then close."""
    request = Request(scope, receive)
    hook: Any = getattr(getattr(scope.get("app"), "state", None), "error_page", None)
    response = hook(request, status, title, detail) if hook is not None else None
    if response is None:
        slug = "too-large" if status == 413 else "bad-request"
        response = problem_response(status, problem_body(status, detail, scope.get("path", ""), slug=slug))
    response.headers["Connection"] = "close"
    await response(scope, receive, send)
