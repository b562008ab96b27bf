"""Console users: a name, one role, and an Argon2id password hash (see :mod:`.passwords`).

Roles are ordered: a ``viewer`` reads every page, an ``operator`` also acts on exceptions,
an ``admin`` also manages users. A new password must meet the policy in
:func:`handoffs.console.passwords.check_password`; a stored hash of an older scheme or with
weaker parameters is replaced on the user's next successful sign-in. Passwords and hashes
are never logged or shown.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from handoffs.console.passwords import (
    MAX_PASSWORD,
    PasswordRefused,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from handoffs.store.tables import console_sessions, console_users

__all__ = [
    "ROLES",
    "ConsoleUser",
    "UserError",
    "add_user",
    "authenticate",
    "delete_user",
    "get_user",
    "hash_password",
    "list_users",
    "set_password",
    "set_role",
    "verify_password",
]

ROLES = ("viewer", "operator", "admin")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserError(ValueError):
    """A user cannot be added or changed as asked (bad name, role or password, or a duplicate)."""


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    name: str
    role: str
    created_at: datetime

    def can(self, role: str) -> bool:
        """Whether this user holds ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def _check_policy(name: str, password: str) -> None:
    try:
        check_password(name, password)
    except PasswordRefused as exc:
        raise UserError(str(exc)) from None


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


def add_user(conn: Connection, name: str, role: str, password: str, now: datetime) -> ConsoleUser:
    """Add a user; raises :class:`UserError` for a bad name, role, short password or a duplicate."""
    if not _NAME.match(name):
        raise UserError("a user name is 1-64 letters, digits, '.', '_', '@' or '-'")
    _check_role(role)
    _check_policy(name, password)
    if get_user(conn, name) is not None:
        raise UserError(f"user {name} already exists")
    conn.execute(
        insert(console_users).values(
            name=name, role=role, password_hash=hash_password(password), created_at=now, updated_at=now
        )
    )
    return ConsoleUser(name, role, now)


def get_user(conn: Connection, name: str) -> ConsoleUser | None:
    row = conn.execute(
        select(console_users.c.name, console_users.c.role, console_users.c.created_at).where(
            console_users.c.name == name
        )
    ).first()
    return None if row is None else ConsoleUser(row.name, row.role, row.created_at)


def authenticate(conn: Connection, name: str, password: str) -> ConsoleUser | None:
    """The user when ``password`` is theirs; None otherwise (unknown names cost the same time).

    On success a hash of an older scheme or with other parameters is replaced by a fresh one
    in the caller's transaction (which the caller commits).
    """
    row = None
    if _NAME.match(name) and len(password) <= MAX_PASSWORD:
        row = conn.execute(select(console_users).where(console_users.c.name == name)).first()
    stored = row.password_hash if row is not None else _dummy()
    if not verify_password(password[:MAX_PASSWORD], stored) or row is None:
        return None
    if needs_rehash(stored):
        conn.execute(
            update(console_users)
            .where(console_users.c.name == name)
            .values(password_hash=hash_password(password))
        )
    return ConsoleUser(row.name, row.role, row.created_at)


def set_password(conn: Connection, name: str, password: str, now: datetime) -> bool:
    """Give ``name`` a new password (checked against the policy) and end their sessions.

    Returns False when there is no such user.
    """
    _check_policy(name, password)
    result = conn.execute(
        update(console_users)
        .where(console_users.c.name == name)
        .values(password_hash=hash_password(password), updated_at=now)
    )
    conn.execute(
        update(console_sessions)
        .where(console_sessions.c.user_name == name, console_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(result.rowcount)


def list_users(conn: Connection) -> list[ConsoleUser]:
    rows = conn.execute(select(console_users).order_by(console_users.c.name))
    return [ConsoleUser(r.name, r.role, r.created_at) for r in rows]


def set_role(conn: Connection, name: str, role: str, now: datetime) -> bool:
    _check_role(role)
    result = conn.execute(
        update(console_users).where(console_users.c.name == name).values(role=role, updated_at=now)
    )
    return bool(result.rowcount)


def delete_user(conn: Connection, name: str) -> bool:
    """Delete a user and their sessions (a later user of the same name starts with none)."""
    conn.execute(delete(console_sessions).where(console_sessions.c.user_name == name))
    return bool(conn.execute(delete(console_users).where(console_users.c.name == name)).rowcount)


@functools.cache
def _dummy() -> str:
    return hash_password(secrets.token_hex(8))
