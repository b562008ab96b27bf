"""Console sessions, CSRF tokens and role checks, all enforced on the server.

A session is a server-side record (:mod:`handoffs.console.sessions`) named by a random
secret. The cookie ``handoffs_console`` holds that secret signed with itsdangerous
(``URLSafeTimedSerializer``, HMAC-SHA256, its own salt), with a key from
``HANDOFFS_CONSOLE_SECRET`` or, by default, derived from the hub's master secret
(``app.keyring().key("console-session")``), which is kept outside the database. The cookie
is HttpOnly and SameSite=Lax. Every request checks the record, so a sign-out, a new password
or a deleted user ends the session at once, and reads the user's role, so a changed role
counts at once. Every POST form carries a CSRF token, signed with another salt, bound to the
session's secret (the login form: to a pre-session cookie), checked before anything runs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import Request
from itsdangerous import BadData, URLSafeTimedSerializer

from handoffs.bootstrap import App
from handoffs.console.sessions import find_session
from handoffs.console.sync_now import Syncs
from handoffs.console.throttle import ADDRESS, USER, Backoff
from handoffs.console.users import ConsoleUser
from handoffs.engine.ratelimit import RateLimit

__all__ = [
    "COOKIE",
    "PRE_COOKIE",
    "ConsoleContext",
    "Denied",
    "csrf_ok",
    "csrf_token",
    "need",
    "same",
    "session_user",
    "sign",
    "unsign",
]

COOKIE = "handoffs_console"
PRE_COOKIE = "handoffs_console_pre"


@dataclass(slots=True)
class ConsoleContext:
    """What every console request shares: the hub, the session lifetime and the signing key.

    ``docs_url``: where the runbooks live (``HANDOFFS_DOCS_URL``), so exceptions link to them.
    ``limits``: each system's documented rate limit (from its systems file), when the hub's
    own guard was not wired from one, so the connectors page can show how much is in use.
    ``user_backoff``, ``address_backoff``: when failed sign-ins lock a user name or a client
    address, and for how long (see :mod:`handoffs.console.throttle`).
    """

    hub: App
    session_ttl: int = 8 * 3600
    docs_url: str | None = field(default_factory=lambda: os.environ.get("HANDOFFS_DOCS_URL"))
    limits: dict[str, RateLimit] = field(default_factory=dict)
    now: Callable[[], float] = time.time
    user_backoff: Backoff = USER
    address_backoff: Backoff = ADDRESS
    syncs: Syncs = field(default_factory=Syncs)  # "sync now" pulls started from the connectors page
    _key: bytes | None = field(default=None, repr=False)

    def key(self) -> bytes:
        """``HANDOFFS_CONSOLE_SECRET`` when set, else a key derived from the hub's master secret."""
        if self._key is None:
            configured = os.environ.get("HANDOFFS_CONSOLE_SECRET")
            self._key = configured.encode() if configured else self.hub.keyring().key("console-session")
        return self._key

    def at(self) -> datetime:
        """The console's clock as a UTC timestamp."""
        return datetime.fromtimestamp(self.now(), UTC)


class Denied(Exception):
    """A request the console refuses: ``login`` (redirect to the login page) or ``forbidden`` (403)."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def same(a: str, b: str) -> bool:
    """Constant-time equality of two strings (any characters: the caller's may not be ASCII)."""
    return hmac.compare_digest(a.encode(), b.encode())


def _serializer(ctx: ConsoleContext, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.key(), salt=salt, signer_kwargs={"digest_method": hashlib.sha256})


def _loads(ctx: ConsoleContext, salt: str, value: str, max_age: int) -> str | None:
    serializer = _serializer(ctx, salt)
    try:
        found = serializer.loads(value, max_age=max_age)
    except (BadData, UnicodeError):
        return None
    return found if isinstance(found, str) else None


def sign(ctx: ConsoleContext, secret: str) -> str:
    """The cookie value for a session's secret."""
    return str(_serializer(ctx, "handoffs.console.session").dumps(secret))


def unsign(ctx: ConsoleContext, value: str | None) -> str | None:
    """The session secret in a cookie value, or None when it is missing, forged or too old."""
    if not value:
        return None
    return _loads(ctx, "handoffs.console.session", value, ctx.session_ttl)


def _binding(bound_to: str) -> str:
    return hashlib.sha256(("csrf|" + bound_to).encode()).hexdigest()


def csrf_token(ctx: ConsoleContext, bound_to: str) -> str:
    """A token for the forms of one session (``bound_to``: ``"session|" + its secret``) or
    of the login page's pre-session (``"pre|" + the pre-session cookie``)."""
    return str(_serializer(ctx, "handoffs.console.csrf").dumps(_binding(bound_to)))


def csrf_ok(ctx: ConsoleContext, sent: str, bound_to: str) -> bool:
    """Whether ``sent`` is a token :func:`csrf_token` made for ``bound_to``, not too old."""
    found = _loads(ctx, "handoffs.console.csrf", sent, ctx.session_ttl) if sent else None
    return found is not None and same(found, _binding(bound_to))


def _context(request: Request) -> ConsoleContext:
    ctx: ConsoleContext = request.app.state.console
    return ctx


def session_user(request: Request) -> tuple[ConsoleUser, str] | None:
    """The signed-in user and their session's secret, or None (no cookie, or a dead session)."""
    ctx = _context(request)
    secret = unsign(ctx, request.cookies.get(COOKIE))
    if secret is None:
        return None
    with ctx.hub.uow() as uow:
        user = find_session(uow.connection, secret, ctx.at())
        uow.commit()
    return None if user is None else (user, secret)


def need(role: str) -> Callable[[Request], Awaitable[ConsoleUser]]:
    """A dependency: the signed-in user holding ``role`` (or a higher one); POSTs also need CSRF.

    Anonymous callers are sent to the login page; users without the role get 403.
    """

    async def check(request: Request) -> ConsoleUser:
        found = session_user(request)
        if found is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise Denied("login", quote(target, safe=""))
        user, secret = found
        ctx = _context(request)
        request.state.console_user = user
        request.state.csrf = csrf_token(ctx, "session|" + secret)
        if not user.can(role):
            raise Denied("forbidden", f"{user.name} has the {user.role} role; this needs the {role} role.")
        if request.method == "POST":
            form: Any = await request.form()
            sent = str(form.get("csrf", "")) or request.headers.get("X-CSRF-Token", "")
            if not csrf_ok(ctx, sent, "session|" + secret):
                raise Denied("forbidden", "The form's security token is missing or stale; reload the page.")
        return user

    return check
