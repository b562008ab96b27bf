"""Replay: run stored messages through their consumers again, by time range or correlation id.

Handlers are idempotent by business key and derive every id from its cause, so replaying
an event that was already handled changes nothing; replaying after a fix re-drives what
failed. A replay gets its own inbox key (``<message id>#replay-<n>``) so it is not mistaken
for a duplicate of the first run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from handoffs.audit import append
from handoffs.flows.replay_preview import check_open, replay_subscriptions
from handoffs.store.uow import SqlUnitOfWork, UowFactory

__all__ = ["queue_exception_replay", "replay", "replay_exception", "select_messages"]


def replay(
    uow_factory: UowFactory,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    correlation_id: str | None = None,
    message_types: set[str] | None = None,
    actor: str | None = None,
) -> int:
    """Queue a new run of every matching message; returns how many runs were queued.

    With ``actor``, the replay is written to the audit log in the same transaction.
    """
    if since is None and until is None and correlation_id is None:
        raise ValueError("say which messages to replay: a time range, a correlation id, or both")
    with uow_factory() as uow:
        selected = select_messages(uow, since, until, correlation_id, message_types)
        queued = uow.queue.enqueue_replay(selected, uow_factory.subscriptions, uow.now.timestamp())
        if actor is not None:
            criteria = {
                "correlation_id": correlation_id,
                "since": None if since is None else since.isoformat(),
                "until": None if until is None else until.isoformat(),
                "types": sorted(message_types or ()),
            }
            append(
                uow.connection,
                at=uow.now,
                actor=actor,
                action="replay",
                target=correlation_id or "time range",
                after={**criteria, "queued": queued},
            )
        uow.commit()
    return queued


def select_messages(
    uow: SqlUnitOfWork,
    since: datetime | None,
    until: datetime | None,
    correlation_id: str | None,
    message_types: set[str] | None = None,
) -> list[tuple[int, str, str]]:
    """(seq, message id, type) of the stored messages a replay with these criteria runs."""
    selected = uow.messages.select(since=since, until=until, correlation_id=correlation_id)
    return [s for s in selected if s[2] in message_types] if message_types else selected


def queue_exception_replay(
    uow: SqlUnitOfWork, exception_id: int, *, subscriptions: Mapping[str, Sequence[str]], reason: str
) -> tuple[Any, int, str]:
    """Queue a new run of the exception's work and resolve it as replayed (no audit row).

    Returns the exception as it was, the runs queued and the resolution. If the replay fails
    again, the worker opens a new exception for the new run, with the new reason.
    """
    record = check_open(uow, exception_id)
    selected = uow.exceptions.replay_messages(record)
    subs = replay_subscriptions(record, subscriptions)
    queued = uow.queue.enqueue_replay(selected, subs, uow.now.timestamp())
    if queued == 0:
        raise ValueError(
            f"exception {exception_id} has no stored message to replay; fix the source and load it again"
        )
    resolution = f"replayed ({queued} run(s) queued): {reason}"
    uow.exceptions.set_state(exception_id, "resolved", resolution)
    return record, queued, resolution


def replay_exception(
    uow: SqlUnitOfWork,
    exception_id: int,
    *,
    subscriptions: Mapping[str, Sequence[str]],
    reason: str,
    actor: str,
) -> dict[str, Any]:
    """Queue a new run of the exception's work and write the audit row (the caller commits)."""
    record, queued, resolution = queue_exception_replay(
        uow, exception_id, subscriptions=subscriptions, reason=reason
    )
    append(
        uow.connection,
        at=uow.now,
        actor=actor,
        action="exceptions.replay",
        target=f"exception:{exception_id}",
        before={"state": record.state},
        after={"state": "resolved", "reason": reason, "queued": queued},
    )
    return {"id": exception_id, "state": "resolved", "queued": queued, "resolution": resolution}
