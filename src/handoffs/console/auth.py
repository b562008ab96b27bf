"""Console sessions, CSRF tokens and role checks, all enforced on the server.

A session is a cookie ``handoffs_console``: ``base64(json) . base64(HMAC-SHA256)`` over the
user name, an expiry and a random nonce, signed with a key from ``HANDOFFS_CONSOLE_SECRET``
or, by default, one the hub creates once and keeps in its database. The cookie is HttpOnly
and SameSite=Lax; the user's role is read from the database on every request, so a changed
role or a deleted user counts at once. Every POST form carries a CSRF token derived from the
session's nonce (the login form: from a pre-session cookie), checked before anything runs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import Request

from handoffs.bootstrap import App
from handoffs.console.users import ConsoleUser, get_user
from handoffs.engine.ratelimit import RateLimit
from handoffs.store.repositories.api_clients import ApiClientRepository

__all__ = [
    "COOKIE",
    "PRE_COOKIE",
    "ConsoleContext",
    "Denied",
    "Session",
    "csrf_token",
    "need",
    "same",
    "sign",
    "unsign",
]

COOKIE = "handoffs_console"
PRE_COOKIE = "handoffs_console_pre"


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    nonce: str
    expires: int


@dataclass(slots=True)
class ConsoleContext:
    """What every console request shares: the hub, the session lifetime and the signing key.

    ``docs_url``: where the runbooks live (``HANDOFFS_DOCS_URL``), so exceptions link to them.
    ``limits``: each system's documented rate limit (from its systems file), when the hub's
    own guard was not wired from one, so the connectors page can show how much is in use.
    """

    hub: App
    session_ttl: int = 8 * 3600
    docs_url: str | None = field(default_factory=lambda: os.environ.get("HANDOFFS_DOCS_URL"))
    limits: dict[str, RateLimit] = field(default_factory=dict)
    now: Callable[[], float] = time.time
    _key: bytes | None = field(default=None, repr=False)

    def key(self) -> bytes:
        if self._key is None:
            configured = os.environ.get("HANDOFFS_CONSOLE_SECRET")
            if configured:
                self._key = configured.encode()
            else:
                with self.hub.uow() as uow:
                    value = ApiClientRepository(uow.connection, uow.now).secret(
                        "console-session", lambda: secrets.token_urlsafe(48)
                    )
                    uow.commit()
                self._key = value.encode()
        return self._key


class Denied(Exception):
    """A request the console refuses: ``login`` (redirect to the login page) or ``forbidden`` (403)."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def same(a: str, b: str) -> bool:
    """Constant-time equality of two strings (any characters: the caller's may not be ASCII)."""
    return hmac.compare_digest(a.encode(), b.encode())


def _mac(key: bytes, text: str) -> str:
    return _b64(hmac.new(key, text.encode(), hashlib.sha256).digest())


def sign(ctx: ConsoleContext, user: str) -> str:
    """A fresh session cookie value for ``user``."""
    claims = {"u": user, "n": secrets.token_urlsafe(16), "e": int(ctx.now()) + ctx.session_ttl}
    body = _b64(orjson.dumps(claims))
    return f"{body}.{_mac(ctx.key(), 'session|' + body)}"


def unsign(ctx: ConsoleContext, value: str | None) -> Session | None:
    """The session in a cookie value, or None when it is missing, forged or expired."""
    if not value or "." not in value:
        return None
    body, mac = value.rsplit(".", 1)
    if not same(mac, _mac(ctx.key(), "session|" + body)):
        return None
    try:
        claims = orjson.loads(_unb64(body))
        session = Session(str(claims["u"]), str(claims["n"]), int(claims["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > ctx.now() else None


def csrf_token(ctx: ConsoleContext, nonce: str) -> str:
    """The token every POST form of a session (or of the login page's pre-session) must carry."""
    return _mac(ctx.key(), "csrf|" + nonce)


def _context(request: Request) -> ConsoleContext:
    ctx: ConsoleContext = request.app.state.console
    return ctx


def session_user(request: Request) -> tuple[ConsoleUser, Session] | None:
    """The signed-in user and their session, or None."""
    ctx = _context(request)
    session = unsign(ctx, request.cookies.get(COOKIE))
    if session is None:
        return None
    with ctx.hub.uow() as uow:
        user = get_user(uow.connection, session.user)
    return None if user is None else (user, session)


def need(role: str) -> Callable[[Request], Awaitable[ConsoleUser]]:
    """A dependency: the signed-in user holding ``role`` (or a higher one); POSTs also need CSRF.

    Anonymous callers are sent to the login page; users without the role get 403.
    """

    async def check(request: Request) -> ConsoleUser:
        found = session_user(request)
        if found is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise Denied("login", quote(target, safe=""))
        user, session = found
        request.state.console_user = user
        request.state.csrf = csrf_token(_context(request), session.nonce)
        if not user.can(role):
            raise Denied("forbidden", f"{user.name} has the {user.role} role; this needs the {role} role.")
        if request.method == "POST":
            form: Any = await request.form()
            sent = str(form.get("csrf", "")) or request.headers.get("X-CSRF-Token", "")
            if not same(sent, request.state.csrf):
                raise Denied("forbidden", "The form's security token is missing or stale; reload the page.")
        return user

    return check
