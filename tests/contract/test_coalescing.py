"""Pending work with one coalescing key is one piece of work; once it is taken, new work queues again."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from handoffs.bootstrap import App
from handoffs.domain.messages import GenerateInvoice

NOW = datetime(2026, 2, 1, tzinfo=UTC)
CONSUMER = "time-to-invoice.invoice"


def ask(n: int, project: str = "P-1", period: str = "2026-01") -> GenerateInvoice:
    return GenerateInvoice(
        message_id=f"gi-{project}-{period}-{n}",
        occurred_at=NOW,
        correlation_id=f"c-{n}",
        project_id=project,
        period=period,
    )


def pending(hub: App) -> list[str]:
    with hub.uow() as uow:
        items = uow.queue.claim("probe", 100, lease_s=0.001, now_s=time.time() + 3600)
        uow.rollback()  # only looking
    return sorted(i.message_id for i in items if i.consumer == CONSUMER)


def test_requests_for_one_project_period_wait_as_one(hub: App) -> None:
    with hub.uow() as uow:
        uow.publish(ask(1), ask(2), ask(3, period="2026-02"), ask(4, project="P-2"))
        uow.commit()
    with hub.uow() as uow:  # a later transaction asks again while the first still waits
        uow.publish(ask(5), ask(6, project="P-2"))
        uow.commit()
    assert pending(hub) == ["gi-P-1-2026-01-1", "gi-P-1-2026-02-3", "gi-P-2-2026-01-4"]
    with hub.uow() as uow:
        assert uow.messages.count_by_type()["GenerateInvoice"] == 6  # every request is in the log


def test_a_request_after_the_run_was_taken_queues_a_new_run(hub: App) -> None:
    with hub.uow() as uow:
        uow.publish(ask(1))
        uow.commit()
    with hub.uow() as uow:
        taken = uow.queue.claim("worker-a", 10, lease_s=60, now_s=time.time())
        uow.commit()
    assert [i.message_id for i in taken if i.consumer == CONSUMER] == ["gi-P-1-2026-01-1"]
    with hub.uow() as uow:  # priced after the run started: it must get a run of its own
        uow.publish(ask(2))
        uow.commit()
    with hub.uow() as uow:
        again = uow.queue.claim("worker-b", 10, lease_s=60, now_s=time.time())
        uow.commit()
    assert [i.message_id for i in again if i.consumer == CONSUMER] == ["gi-P-1-2026-01-2"]


def test_a_run_joined_by_an_open_transaction_waits_for_its_commit(hub: App) -> None:
    """On PostgreSQL the joined run is locked until the joiner commits, so it sees what was priced."""
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the joiner's whole transaction runs before any claim")
    with hub.uow() as uow:
        uow.publish(ask(1))
        uow.commit()
    now = time.time() + 10
    with hub.uow() as joiner, hub.uow() as worker:
        joiner.publish(ask(2))
        joiner.messages.append(joiner.take_published(), joiner._subscriptions)  # joined, not committed
        assert worker.queue.claim("w", 10, lease_s=30, now_s=now) == []  # the run is held back
        worker.rollback()
        joiner.commit()
    with hub.uow() as worker:
        taken = worker.queue.claim("w", 10, lease_s=30, now_s=now)
        worker.commit()
    assert [i.message_id for i in taken if i.consumer == CONSUMER] == ["gi-P-1-2026-01-1"]
