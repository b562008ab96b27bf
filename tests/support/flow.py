"""Helpers to push lines through a hub and read back what it did."""

from __future__ import annotations

from typing import Any

from handoffs.bench.datagen import backfill_lines
from handoffs.bootstrap import App
from handoffs.flows.ingest import LoadReport, ingest_lines
from handoffs.reconcile.billing import BillingCheck, check_billing


def firm_lines(entries: int = 400, projects: int = 4, **kw: Any) -> list[str]:
    return list(backfill_lines(entries=entries, projects=projects, **kw))


def load(hub: App, lines: list[str], source: str = "file:test.jsonl") -> LoadReport:
    return ingest_lines(lines, hub.uow, hub.ports, source=source, batch_size=150)


def drain(hub: App) -> dict[str, int]:
    worker = hub.worker(sleep=lambda s: __import__("time").sleep(min(s, 0.02)))
    return worker.run(until_idle=True).as_dict()


def billing(hub: App) -> BillingCheck:
    with hub.uow() as uow:
        return check_billing(uow.connection)


def snapshot(hub: App) -> dict[str, Any]:
    """Counts that must not change when nothing new happened."""
    with hub.uow() as uow:
        return {
            "messages": uow.messages.count_by_type(),
            "deliveries": uow.deliveries.count_by_status(),
            "entries": uow.time_entries.count_by_state(),
            "invoices": [(i.id, str(i.total)) for i, _ in uow.invoices.iter_all()],
            "exceptions": uow.exceptions.count_by_category(),
        }
