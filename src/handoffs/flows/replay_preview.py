"""A replay's money impact, worked out in a savepoint and rolled back before anyone commits.

Replaying an exception's work runs its message (or, for an exception with no message of its
own, its flow's messages) through the consumer again. Before a person confirms, the preview
runs the same local handlers, and the handlers of whatever they publish, inside a savepoint
of the caller's unit of work; it then compares the invoices and time entries of the projects
involved before and after, and rolls the savepoint back. Calls to other systems are never
made: a posting the replay would send is listed instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "InvoiceImpact",
    "ReplayPreview",
    "check_open",
    "preview",
    "preview_messages",
    "replay_subscriptions",
]

_MAX_LEVELS = 12


@dataclass(frozen=True, slots=True)
class InvoiceImpact:
    """An invoice a replay would create or change."""

    id: str
    change: str  # "new", or "status delivery_failed -> ..."
    project_id: str
    period: str
    currency: str
    total: Decimal
    lines: tuple[dict[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "change": self.change,
            "project_id": self.project_id,
            "period": self.period,
            "currency": self.currency,
            "total": str(self.total),
            "lines": list(self.lines),
        }


@dataclass(slots=True)
class ReplayPreview:
    """What replaying an exception's work would do."""

    exception_id: int | None  # None for a replay by correlation id or time range
    runs: int = 0  # message runs the replay would queue
    steps: list[str] = field(default_factory=list)  # "consumer: N message(s) ok|would call out|would fail"
    invoices: list[InvoiceImpact] = field(default_factory=list)
    entries_priced: int = 0  # entries the replay prices (and perhaps bills in the same run)
    priced_value: dict[str, Decimal] = field(default_factory=dict)
    entries_billed: int = 0
    postings: list[str] = field(default_factory=list)  # "erp: invoice INV-1"
    failure: str | None = None

    @property
    def invoiced(self) -> dict[str, Decimal]:
        """Money on new invoices per currency (credit notes count negative)."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for inv in self.invoices:
            if inv.change == "new":
                totals[inv.currency] += inv.total
        return dict(totals)

    @property
    def changes_anything(self) -> bool:
        return bool(self.invoices or self.entries_priced or self.entries_billed or self.postings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "exception_id": self.exception_id,
            "runs": self.runs,
            "steps": self.steps,
            "invoices": [i.as_dict() for i in self.invoices],
            "invoiced": {c: str(a) for c, a in sorted(self.invoiced.items())},
            "entries_priced": self.entries_priced,
            "priced_value": {c: str(a) for c, a in sorted(self.priced_value.items())},
            "entries_billed": self.entries_billed,
            "postings": self.postings,
            "failure": self.failure,
        }


def check_open(uow: Any, exception_id: int) -> Any:
    """The exception, if it exists and is still to be acted on (LookupError, ValueError otherwise)."""
    record = uow.exceptions.get(exception_id)
    if record is None:
        raise LookupError(f"no exception {exception_id}")
    if record.state in ("resolved", "ignored"):
        raise ValueError(f"exception {exception_id} is already {record.state}")
    return record


def replay_subscriptions(record: Any, subscriptions: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Who a replay runs for: only the consumer that failed, when the exception names one."""
    if record.consumer:
        return {t: [c for c in cs if c == record.consumer] for t, cs in subscriptions.items()}
    return {t: list(cs) for t, cs in subscriptions.items()}


def preview(uow: Any, exception_id: int, *, registry: Any, ports: Any) -> ReplayPreview:
    """Run the exception's replay inside a savepoint, compare, roll back.

    Give it a unit of work of its own and do not commit it afterwards: its read caches saw
    the rolled-back work.
    """
    from handoffs.flows.triage import assess

    record = check_open(uow, exception_id)
    subs = replay_subscriptions(record, registry.subscriptions)
    selected = uow.exceptions.replay_messages(record)
    item = assess(uow, record.id)
    hint = [item.project_id] if item is not None and item.project_id else []
    result = preview_messages(uow, selected, subs, registry=registry, ports=ports, projects=hint)
    result.exception_id = exception_id
    return result


def preview_messages(
    uow: Any,
    selected: Sequence[tuple[int, str, str]],
    subscriptions: Mapping[str, Sequence[str]],
    *,
    registry: Any,
    ports: Any,
    projects: Sequence[str] = (),
) -> ReplayPreview:
    """What replaying stored messages ``(seq, message id, type)`` would do, rolled back.

    ``handoffs replay`` previews a correlation id or a time range with it; ``projects`` adds
    projects to compare beyond those the messages name.
    """
    result = ReplayPreview(None, runs=sum(len(subscriptions.get(t, ())) for _, _, t in selected))
    loaded = uow.exceptions.load_messages([s[0] for s in selected])
    level: dict[str, list[Any]] = defaultdict(list)
    for seq, _, type_name in selected:
        for consumer in subscriptions.get(type_name, ()):
            level[consumer].append(loaded[seq])
    scope = _projects(uow, [m for batch in level.values() for m in batch], projects)
    before = uow.exceptions.footprint(scope)
    savepoint = uow.connection.begin_nested()
    try:
        for _ in range(_MAX_LEVELS):
            if not level or result.failure:
                break
            level = _run_level(uow, registry, ports, level, result)
        after = uow.exceptions.footprint(scope)
        lines = uow.exceptions.lines_of([i for i in after["invoices"] if i not in before["invoices"]])
    finally:
        uow.take_published()
        savepoint.rollback()
    _diff(before, after, lines, result)
    return result


def _run_level(
    uow: Any, registry: Any, ports: Any, level: dict[str, list[Any]], result: ReplayPreview
) -> dict[str, list[Any]]:
    following: dict[str, list[Any]] = defaultdict(list)
    for consumer, batch in level.items():
        handler = registry.handler(consumer)
        if handler.outbound:
            result.steps.append(f"{consumer}: {len(batch)} message(s) would call out")
            for m in batch:
                if getattr(m, "invoice_id", None) and getattr(m, "system", None):
                    result.postings.append(f"{m.system}: invoice {m.invoice_id}")
            continue
        try:
            handler.handle(batch, uow, ports)
        except Exception as exc:  # reported, not raised: it is the failure the replay would meet
            result.failure = f"{consumer}: {exc}"
            result.steps.append(f"{consumer}: {len(batch)} message(s) would fail")
            return {}
        result.steps.append(f"{consumer}: {len(batch)} message(s) ok")
        for message in uow.take_published():
            for nxt in registry.subscriptions.get(type(message).__name__, ()):
                following[nxt].append(message)
    return following


def _projects(uow: Any, batch: list[Any], extra: Sequence[str]) -> list[str]:
    found = {p for p in (getattr(m, "project_id", None) for m in batch) if isinstance(p, str)}
    found |= set(extra)
    for m in batch:
        invoice_id = getattr(m, "invoice_id", None)
        invoice = uow.invoices.get(invoice_id) if isinstance(invoice_id, str) else None
        if invoice is not None:
            found.add(invoice.project_id)
        entry_id = getattr(m, "entry_id", None)
        stored = uow.time_entries.get(entry_id) if isinstance(entry_id, str) else None
        if stored is not None:
            found.add(stored.entry.project_id)
    return sorted(found)


def _diff(
    before: dict[str, Any],
    after: dict[str, Any],
    lines: dict[str, list[dict[str, str]]],
    result: ReplayPreview,
) -> None:
    for invoice_id, row in sorted(after["invoices"].items()):
        old = before["invoices"].get(invoice_id)
        if old is not None and old.status == row.status:
            continue
        change = "new" if old is None else f"status {old.status} -> {row.status}"
        result.invoices.append(
            InvoiceImpact(
                invoice_id,
                change,
                row.project_id,
                row.period,
                row.currency,
                row.total,
                tuple(lines.get(invoice_id, ())),
            )
        )
    priced: dict[str, Decimal] = defaultdict(Decimal)
    for entry_id, (state, hours, rate, currency) in after["entries"].items():
        was = before["entries"].get(entry_id, (None,))[0]
        if state == was:
            continue
        if was in (None, "unpriced") and state in ("priced", "billed") and rate is not None:
            result.entries_priced += 1
            priced[currency] += hours * rate
        if state == "billed":
            result.entries_billed += 1
    result.priced_value = dict(priced)
