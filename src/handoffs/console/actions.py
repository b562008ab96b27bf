"""What an operator does to an exception from the console, audited like the API and the CLI.

Retry and ignore run the process API's own commands (:mod:`handoffs.api.commands`); replay
runs :func:`handoffs.engine.replay.replay_exception`, as ``handoffs exceptions replay`` does;
edit and retry loads a corrected record through the ingest path ``handoffs load`` uses,
exactly as ``handoffs exceptions fix`` does. Each action and its audit row commit together; the actor
is ``console:<user>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from handoffs.api import commands
from handoffs.api.context import Principal
from handoffs.api.problems import Problem
from handoffs.audit import append
from handoffs.bootstrap import App
from handoffs.domain.catalog import decode_record
from handoffs.domain.errors import DomainError
from handoffs.flows.ingest import ingest_lines

__all__ = ["Outcome", "assign", "check_record", "fix", "replay", "retry_or_ignore"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened, for the page: ``ok``, a sentence for a person, and on success the code
    of the banner the page shows after the redirect (see :mod:`handoffs.console.notices`)."""

    ok: bool
    message: str
    code: str = ""


def _principal(user: str) -> Principal:
    return Principal(client_id=user, name=user, scopes=frozenset({"*"}), entities=None, key_id="console")


def retry_or_ignore(hub: App, user: str, action: str, exception_id: int, reason: str) -> Outcome:
    """Retry (map a pull's held record again from its payload, or requeue a dead letter's
    work) or ignore (close with the reason)."""
    if not reason.strip():
        return Outcome(False, "Give a reason: it is kept with the exception and in the audit log.")
    from handoffs.sync.remap import remapper

    operator = _principal(user)
    try:
        with hub.uow() as uow:
            if action == "retry":
                remap = remapper(hub, f"console:{user}")
                result = commands.retry_exception(uow, operator, exception_id, reason.strip(), remap)
            else:
                result = commands.ignore_exception(uow, operator, exception_id, reason.strip())
            for audit in result.audit:
                append(
                    uow.connection,
                    at=uow.now,
                    actor=f"console:{user}",
                    action=audit.action.replace("process.", "console."),
                    target=audit.target,
                    before=audit.before,
                    after=audit.after,
                )
            uow.commit()
    except Problem as exc:
        return Outcome(False, exc.detail)
    if "remap" in result.body:
        return Outcome(True, f"Exception {exception_id}: {result.body['remap']['reason']}", "updated")
    if result.body.get("work_requeued"):
        return Outcome(
            True,
            f"Exception {exception_id} is retrying: its work is queued again for the worker.",
            "requeued",
        )
    return Outcome(True, f"Exception {exception_id} is {result.body['state']}.", "updated")


def assign(hub: App, user: str, exception_id: int, owner: str, *, via: str = "console") -> Outcome:
    """Give the exception an owner (an open one moves to in_progress), audited as ``via:user``."""
    owner = owner.strip()
    if not owner or len(owner) > 128:
        return Outcome(False, "Name an owner (at most 128 characters).")
    with hub.uow() as uow:
        record = uow.exceptions.get(exception_id)
        if record is None:
            return Outcome(False, f"No exception {exception_id}.")
        uow.exceptions.assign(exception_id, owner)
        append(
            uow.connection,
            at=uow.now,
            actor=f"{via}:{user}",
            action=f"{via}.assign_exception",
            target=f"exception:{exception_id}",
            before={"owner": record.owner},
            after={"owner": owner},
        )
        uow.commit()
    return Outcome(True, f"Exception {exception_id} is owned by {owner}.", "assigned")


def check_record(raw: str) -> str | None:
    """Why ``raw`` is not one valid canonical record, or None when it is."""
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"not valid JSON: {exc}"
    try:
        decode_record(data)
    except DomainError as exc:
        return str(exc)
    except (TypeError, ValueError, OverflowError) as exc:
        return f"not a canonical record: {exc}"
    return None


def fix(hub: App, user: str, exception_id: int, raw: str, *, via: str = "console") -> Outcome:
    """Edit and retry: validate the corrected record, load it in place of the failed one, resolve.

    ``via`` names the door it came through in the audit log (``console`` or ``cli``).
    """
    with hub.uow() as uow:
        record = uow.exceptions.get(exception_id)
    if record is None:
        return Outcome(False, f"No exception {exception_id}.")
    if record.state in ("resolved", "ignored"):
        return Outcome(False, f"Exception {exception_id} is already {record.state}.")
    if record.category != "validation" or record.work_id is not None:
        return Outcome(
            False, f"Exception {exception_id} is not a record that failed to load; retry it instead."
        )
    line = raw.strip()
    problem = check_record(line)
    if problem is not None:
        return Outcome(False, f"The corrected record is not valid: {problem}")
    line = orjson.dumps(orjson.loads(line)).decode()  # one line, as a load reads it
    report = ingest_lines([line], hub.uow, hub.ports, source=record.source)
    if report.failed:
        return Outcome(False, "The corrected record still fails to load; it is a new open exception.")
    with hub.uow() as uow:
        uow.exceptions.set_state(exception_id, "resolved", f"corrected by {user} and loaded")
        append(
            uow.connection,
            at=uow.now,
            actor=f"{via}:{user}",
            action=f"{via}.fix_exception",
            target=f"exception:{exception_id}",
            before={"raw": record.raw},
            after={"raw": line},
        )
        uow.commit()
    return Outcome(True, f"Exception {exception_id} resolved: the corrected record is loaded.", "fixed")


def replay(hub: App, user: str, exception_id: int, reason: str) -> Outcome:
    """Queue a new run of the exception's stored messages (the page showed the preview first)."""
    from handoffs.engine.replay import replay_exception

    if not reason.strip():
        return Outcome(False, "Give a reason: it is kept with the exception and in the audit log.")
    try:
        with hub.uow() as uow:
            result = replay_exception(
                uow,
                exception_id,
                subscriptions=hub.registry.subscriptions,
                reason=reason.strip(),
                actor=f"console:{user}",
            )
            uow.commit()
    except (LookupError, ValueError) as exc:
        return Outcome(False, str(exc))
    return Outcome(
        True,
        f"Exception {exception_id} replayed: {result['queued']} run(s) queued for the worker.",
        "replayed",
    )
