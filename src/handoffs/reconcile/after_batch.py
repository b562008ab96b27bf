"""The billing controls, run after each worker batch that billed or posted.

Scoped to what the batch touched: the projects and periods of its billing runs
(``GenerateInvoice``) get every control, unless their invoices are as this worker last saw
them (a billing run that changed nothing); the invoices it posted (``PostInvoice``) get the
postings control (journal, confirmations, posted twice). Differences that are
normal while work is still flowing (approved time not billed yet, an invoice not confirmed
yet) are left to the period's reconciliation (``handoffs reconcile``); every other
unexplained break becomes an exception at once, one per break however often it is found.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import select

from handoffs.reconcile.controls import reconcile, record_breaks
from handoffs.store.tables import invoices
from handoffs.store.uow import UowFactory
from handoffs.telemetry.logs import get_logger
from handoffs.telemetry.metrics import Metrics

__all__ = ["BILLING_CONSUMERS", "BatchControls"]

BILLING_CONSUMERS = frozenset({"time-to-invoice.invoice", "time-to-invoice.post"})

log = get_logger("handoffs.controls")


class BatchControls:
    """A worker's ``after_batch`` hook: ``controls(items)`` returns the exceptions it opened."""

    def __init__(self, uow_factory: UowFactory, metrics: Metrics | None = None) -> None:
        self._uow = uow_factory
        self._metrics = metrics
        self._seen: dict[tuple[str, str], frozenset[tuple[str, str]]] = {}  # (project, period) -> invoices

    def __call__(self, items: Sequence[Any]) -> int:
        touched = [i for i in items if i.consumer in BILLING_CONSUMERS]
        if not touched:
            return 0
        try:
            return self._check(touched)
        except Exception as exc:  # the batch is done; a failed check is itself for a person
            self._failed(exc)
            return 0

    def _check(self, touched: list[Any]) -> int:
        opened: Counter[str] = Counter()
        found: Counter[tuple[str, bool]] | None = None  # what the full controls found, if they ran
        with self._uow() as uow:
            billed, posted = _scopes(uow, touched)
            for period, projects in sorted(billed.items()):
                changed = self._changed(uow, period, projects)
                if changed:  # a billing run that changed nothing needs no second look
                    report = reconcile(uow.connection, period, projects=changed, in_flight=True)
                    opened += record_breaks(uow, report)
                    found = Counter() if found is None else found
                    found.update((b.code, b.explained) for b in report.breaks)
            for period, projects in sorted(posted.items()):
                report = reconcile(
                    uow.connection,
                    period,
                    projects=projects,
                    in_flight=True,
                    controls=("margin_vs_postings",),
                )
                opened += record_breaks(uow, report)
            uow.commit()
        if self._metrics is not None and found is not None:
            self._metrics.reconciliation_breaks.clear()
            for (code, explained), n in found.items():
                self._metrics.reconciliation_breaks.labels(code, str(explained).lower()).set(n)
        if self._metrics is not None:
            for code, n in opened.items():
                self._metrics.reconciliation_opened.labels(code).inc(n)
        return sum(opened.values())

    def _changed(self, uow: Any, period: str, projects: set[str]) -> set[str]:
        """The projects whose invoices for the period differ from when this worker last checked."""
        now: dict[str, set[tuple[str, str]]] = defaultdict(set)
        rows = uow.connection.execute(
            select(invoices.c.project_id, invoices.c.id, invoices.c.status).where(
                invoices.c.period == period, invoices.c.project_id.in_(sorted(projects))
            )
        )
        for project_id, invoice_id, status in rows:
            now[project_id].add((invoice_id, status))
        changed = set()
        for project_id in projects:
            current = frozenset(now[project_id])
            if self._seen.get((project_id, period)) != current:
                self._seen[(project_id, period)] = current
                changed.add(project_id)
        return changed

    def _failed(self, exc: Exception) -> None:
        reason = f"the billing controls after a batch failed: {type(exc).__name__}"
        log.error("controls_failed", reason=reason)
        with self._uow() as uow:
            uow.exceptions.add(
                category="reconciliation_break",
                source="control:after-batch",
                priority=2,
                reason=reason,
                raw=str(exc)[:2000],
                fingerprint=f"controls-failed:{type(exc).__name__}",
            )
            uow.commit()


def _scopes(uow: Any, items: list[Any]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Period -> projects the batch billed, and period -> projects whose invoices it posted."""
    billed: dict[str, set[str]] = defaultdict(set)
    posted: dict[str, set[str]] = defaultdict(set)
    invoice_ids: list[str] = []
    for item in items:
        data = orjson.loads(item.payload)
        if item.consumer == "time-to-invoice.invoice":
            billed[data["period"]].add(data["project_id"])
        else:
            invoice_ids.append(data["invoice_id"])
    for i in range(0, len(invoice_ids), 500):
        rows = uow.connection.execute(
            select(invoices.c.project_id, invoices.c.period).where(
                invoices.c.id.in_(invoice_ids[i : i + 500])
            )
        )
        for project_id, period in rows:
            posted[period].add(project_id)
    return billed, posted
