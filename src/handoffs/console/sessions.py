"""Console sessions kept on the server (table ``console_sessions``).

A session is a random secret (``secrets.token_urlsafe(32)``) that only the user's cookie
holds, signed; the table keeps its SHA-256, so a database reader cannot take a session over.
Every request looks the session up: one that was ended (sign-out, a new password: see
:func:`handoffs.console.users.set_password`; a deleted user's are deleted) or has expired
counts no longer, whatever the cookie says. The role is read from
``console_users`` in the same query, so a changed role counts at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from handoffs.console.users import ConsoleUser
from handoffs.store.tables import console_sessions, console_users

__all__ = ["end_session", "find_session", "start_session"]

_TOUCH_EVERY = timedelta(minutes=1)
_KEEP_ENDED = timedelta(days=30)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(conn: Connection, user: str, client: str | None, now: datetime, ttl: timedelta) -> str:
    """Record a new session for ``user``; returns its secret (for the cookie, never stored)."""
    secret = secrets.token_urlsafe(32)
    conn.execute(
        delete(console_sessions).where(console_sessions.c.expires_at < now - _KEEP_ENDED)
    )  # long-gone sessions are kept a while for investigations, then dropped
    conn.execute(
        insert(console_sessions).values(
            id=_digest(secret),
            user_name=user,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ttl,
            ended_at=None,
            client=(client or "")[:64] or None,
        )
    )
    return secret


def find_session(conn: Connection, secret: str, now: datetime) -> ConsoleUser | None:
    """The user of a live session (not ended, not expired, user still there), or None."""
    row = conn.execute(
        select(
            console_users.c.name,
            console_users.c.role,
            console_users.c.created_at,
            console_sessions.c.last_seen_at,
        )
        .join(console_users, console_users.c.name == console_sessions.c.user_name)
        .where(
            console_sessions.c.id == _digest(secret),
            console_sessions.c.ended_at.is_(None),
            console_sessions.c.expires_at > now,
        )
    ).first()
    if row is None:
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        conn.execute(
            update(console_sessions).where(console_sessions.c.id == _digest(secret)).values(last_seen_at=now)
        )
    return ConsoleUser(row.name, row.role, row.created_at)


def end_session(conn: Connection, secret: str, now: datetime) -> bool:
    """End one session (sign-out); False when it was not live."""
    result = conn.execute(
        update(console_sessions)
        .where(console_sessions.c.id == _digest(secret), console_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(result.rowcount)
