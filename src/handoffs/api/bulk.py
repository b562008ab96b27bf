"""Retry, ignore or assign many exceptions: the single-exception commands, once per item.

The console, the CLI and ``POST /v1/process/exception-batches`` select with
:mod:`handoffs.flows.triage_bulk` and act here. Each item goes through the same command a
single action uses (:func:`handoffs.api.commands.retry_exception`, ``ignore_exception``),
with the same visibility check, so whatever those commands learn applies to bulk actions
too. An item the command refuses (already closed, nothing to retry, not visible) is reported
and left alone; the others change. Nothing here commits: the caller commits the changes and
the audit rows (one per item and one for the batch) in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handoffs.api import commands
from handoffs.api.context import Principal
from handoffs.api.idempotency import Audit, Result
from handoffs.api.problems import Problem
from handoffs.audit import append
from handoffs.store.uow import SqlUnitOfWork

__all__ = ["ACTIONS", "BATCH_LIMIT", "apply", "record_audit", "visible_to"]

ACTIONS = ("retry", "ignore", "assign")
BATCH_LIMIT = 5000  # exceptions one batch may change


def visible_to(uow: SqlUnitOfWork, principal: Principal) -> Any:
    """A predicate: may ``principal`` see this exception (by its legal entity)?"""
    if principal.entities is None:
        return None
    return lambda record: principal.sees(commands._exception_entity(uow, record))


def _assign(uow: SqlUnitOfWork, principal: Principal, exception_id: int, owner: str) -> Result:
    record = commands._exception(uow, principal, exception_id)
    uow.exceptions.assign(exception_id, owner)
    audit = Audit(
        "process.assign_exception", f"exception:{exception_id}", {"owner": record.owner}, {"owner": owner}
    )
    state = "in_progress" if record.state == "open" else record.state
    return Result(200, {"id": exception_id, "state": state}, [audit])


def apply(
    uow: SqlUnitOfWork,
    principal: Principal,
    action: str,
    ids: Sequence[int],
    *,
    reason: str = "",
    owner: str = "",
    criteria: dict[str, Any] | None = None,
    remap: Any = None,
) -> Result:
    """Run ``action`` on each exception in ``ids``; the body lists what changed and what did not.

    ``remap`` (:func:`handoffs.sync.remap.remapper`) makes a retry map a pull's held record
    again from its stored payload, as the single retry does.

    Raises:
        ValueError: an unknown action, a missing reason or owner, or too many exceptions.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if action == "assign" and not (owner.strip() and len(owner.strip()) <= 128):
        raise ValueError("name an owner (at most 128 characters)")
    if action != "assign" and not reason.strip():
        raise ValueError("give a reason: it is kept with each exception and in the audit log")
    if len(ids) > BATCH_LIMIT:
        raise ValueError(f"{len(ids)} exceptions selected; a batch changes at most {BATCH_LIMIT}")
    changed: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    audits: list[Audit] = []
    for exception_id in ids:
        try:
            if action == "assign":
                result = _assign(uow, principal, exception_id, owner.strip())
            elif action == "retry":
                result = commands.retry_exception(uow, principal, exception_id, reason.strip(), remap)
            else:
                result = commands.ignore_exception(uow, principal, exception_id, reason.strip())
        except Problem as exc:
            refused.append({"id": exception_id, "reason": exc.detail})
            continue
        changed.append({"id": exception_id, "state": result.body["state"]})
        if "remap" in result.body:  # re-mapped from its payload: stored, or held again with a new reason
            changed[-1]["remap"] = result.body["remap"]["outcome"]
        audits += result.audit
    summary = {"action": action, "selected": len(ids), "changed": len(changed), "refused": len(refused)}
    audits.append(
        Audit(
            f"process.bulk_{action}_exceptions",
            f"{len(ids)} exception(s)",
            criteria or {"ids": list(ids)},
            summary | ({"owner": owner.strip()} if action == "assign" else {"reason": reason.strip()}),
        )
    )
    return Result(200, summary | {"changed_items": changed, "refused_items": refused}, audits)


def record_audit(uow: SqlUnitOfWork, result: Result, actor: str, via: str) -> None:
    """Write ``result``'s audit rows as ``actor`` through ``via`` (``console`` or ``cli``)."""
    for row in result.audit:
        append(
            uow.connection,
            at=uow.now,
            actor=actor,
            action=row.action.replace("process.", f"{via}."),
            target=row.target,
            before=row.before,
            after=row.after,
        )
