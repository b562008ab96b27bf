"""One console sign-in attempt: back-off, password check, session, audit, in one transaction.

A refused attempt while its user name or client address is locked (:mod:`.throttle`) checks
no password and writes nothing. A failed attempt counts for both and is written to the audit
chain as ``console.login_failed`` by the actor ``console:<client address>`` with the user
name it tried (never the password); a successful one clears its user's count, starts a
server-side session (:mod:`.sessions`) and is audited as ``console.login``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

from handoffs.audit import append
from handoffs.console import throttle
from handoffs.console.auth import ConsoleContext
from handoffs.console.sessions import start_session
from handoffs.console.users import ConsoleUser, authenticate

__all__ = ["Attempt", "attempt"]

_PRINTABLE = re.compile(r"^[\x21-\x7e]{1,64}$")


@dataclass(frozen=True, slots=True)
class Attempt:
    """What came of a sign-in: a user and their session's secret, or a wait, or neither."""

    user: ConsoleUser | None = None
    secret: str = ""
    wait_seconds: int = 0


def _rules(ctx: ConsoleContext, name: str, client: str) -> dict[str, throttle.Backoff]:
    rules = {f"addr:{client[:64]}": ctx.address_backoff}
    if _PRINTABLE.match(name):  # a user name is never longer or stranger than this
        rules[f"user:{name}"] = ctx.user_backoff
    return rules


def attempt(ctx: ConsoleContext, name: str, password: str, client: str) -> Attempt:
    """Try to sign ``name`` in from ``client`` now (by the console's clock)."""
    now, rules = ctx.at(), _rules(ctx, name, client)
    with ctx.hub.uow() as uow:
        wait = throttle.locked_for(uow.connection, list(rules), now)
        if wait is not None:
            return Attempt(wait_seconds=max(1, math.ceil(wait.total_seconds())))
        user = authenticate(uow.connection, name, password)
        if user is None:
            locked = max(throttle.record_failure(uow.connection, k, r, now) for k, r in rules.items())
            append(
                uow.connection,
                at=uow.now,
                actor=f"console:{client[:64]}",
                action="console.login_failed",
                target=f"user:{name}" if len(rules) > 1 else "user:(not a valid user name)",
                after={"locked_seconds": int(locked.total_seconds())},
            )
            uow.commit()
            return Attempt()
        throttle.clear(uow.connection, f"user:{user.name}")
        ttl = timedelta(seconds=ctx.session_ttl)
        secret = start_session(uow.connection, user.name, client, now, ttl)
        append(
            uow.connection,
            at=uow.now,
            actor=f"console:{user.name}",
            action="console.login",
            target=f"user:{user.name}",
            after={"client": client[:64]},
        )
        uow.commit()
    return Attempt(user, secret)
