"""Replay: run stored messages through their consumers again, by time range or correlation id.

Handlers are idempotent by business key and derive every id from its cause, so replaying
an event that was already handled changes nothing; replaying after a fix re-drives what
failed. A replay gets its own inbox key (``<message id>#replay-<n>``) so it is not mistaken
for a duplicate of the first run.
"""

from __future__ import annotations

from datetime import datetime

from handoffs.store.uow import UowFactory

__all__ = ["replay"]


def replay(
    uow_factory: UowFactory,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    correlation_id: str | None = None,
    message_types: set[str] | None = None,
) -> int:
    """Queue a new run of every matching message; returns how many runs were queued."""
    if since is None and until is None and correlation_id is None:
        raise ValueError("say which messages to replay: a time range, a correlation id, or both")
    with uow_factory() as uow:
        selected = uow.messages.select(since=since, until=until, correlation_id=correlation_id)
        if message_types:
            selected = [s for s in selected if s[2] in message_types]
        queued = uow.queue.enqueue_replay(selected, uow_factory.subscriptions, uow.now.timestamp())
        uow.commit()
    return queued
