"""Console users: a name, one role, and a scrypt password hash with a random salt.

Roles are ordered: a ``viewer`` reads every page, an ``operator`` also acts on exceptions,
an ``admin`` also manages users. Passwords are hashed with :func:`hashlib.scrypt` and
stored as ``scrypt$n$r$p$salt$hash`` (hex); they are never logged or shown.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from handoffs.store.tables import console_users

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
    "set_role",
    "verify_password",
]

ROLES = ("viewer", "operator", "admin")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_N, _R, _P = 2**14, 8, 1
MIN_PASSWORD = 8


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


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


def add_user(conn: Connection, name: str, role: str, password: str, now: datetime) -> ConsoleUser:
    """Add a user; raises :class:`UserError` for a bad name, role, short password or a duplicate."""
    if not _NAME.match(name):
        raise UserError("a user name is 1-64 letters, digits, '.', '_', '@' or '-'")
    _check_role(role)
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
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
    """The user when ``password`` is theirs; None otherwise (unknown names cost the same time)."""
    row = conn.execute(select(console_users).where(console_users.c.name == name)).first()
    stored = row.password_hash if row is not None else _dummy()
    ok = verify_password(password, stored)
    return ConsoleUser(row.name, row.role, row.created_at) if ok and row is not None else None


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
    return bool(conn.execute(delete(console_users).where(console_users.c.name == name)).rowcount)


@functools.cache
def _dummy() -> str:
    return hash_password(secrets.token_hex(8))
