"""Many exceptions at once: one filter, one page of results, one money preview, one CSV.

The console's queue, ``handoffs exceptions list|retry|ignore|assign`` with filter options and
the process API's ``/v1/process/exception-batches`` all select exceptions through
:class:`Filter` and :func:`select`, so the three doors agree on what "these exceptions" means.
The actions themselves run the single-exception commands once per item
(:mod:`handoffs.api.bulk`); this module only chooses, pages, previews and exports.

* :func:`select` assesses the queue (:func:`handoffs.flows.triage.queue`) and keeps the items
  matching every given criterion: state, category, system, project, legal entity, age, free
  text, explicit ids.
* :func:`preview` adds up what retrying the selection would do, by running the replay preview
  of :mod:`handoffs.flows.replay_preview` per exception (each rolled back).
* :func:`to_csv` writes the selection as CSV for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from handoffs.flows.triage import QueueItem, queue, replay_preview

__all__ = [
    "PREVIEW_LIMIT",
    "BulkPreview",
    "Filter",
    "Page",
    "parse_age",
    "preview",
    "select",
    "system_of",
    "to_csv",
]

PREVIEW_LIMIT = 100  # exceptions whose replay is worked out for one preview
_AGE = re.compile(r"^\s*(\d{1,5})\s*([dw]?)\s*$")


def parse_age(text: str) -> int:
    """Days in ``7d``, ``2w`` or ``7`` (a bare number is days); ValueError for anything else."""
    found = _AGE.match(text or "")
    if not found:
        raise ValueError(f"{text!r} is not an age such as 7d or 2w")
    n, unit = int(found.group(1)), found.group(2) or "d"
    return n * 7 if unit == "w" else n


@dataclass(frozen=True, slots=True)
class Filter:
    """What to select; an empty field does not filter.

    ``system`` matches the system an exception came from (``harvest`` for a pull of
    ``harvest:time_entries``, or the system named in a failed delivery's detail);
    ``older_than`` is in days; ``q`` is free text looked for in the reason, the object id,
    the source and the raw payload (case-insensitive); ``ids`` restricts to those exceptions.
    """

    state: str = ""
    category: str = ""
    system: str = ""
    project: str = ""
    entity: str = ""
    older_than: int | None = None
    q: str = ""
    ids: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def as_dict(self) -> dict[str, Any]:
        """The criteria that filter, e.g. for an audit row or a query string."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
        if "ids" in out:
            out["ids"] = list(out["ids"])
        return out


def system_of(record: Any) -> str:
    """The system an exception came from: its delivery's system, else its source's first part."""
    named = record.detail.get("system") if isinstance(record.detail, dict) else None
    return str(named) if named else str(record.source).split(":", 1)[0]


def _matches(item: QueueItem, f: Filter, cutoff: Any) -> bool:
    x = item.exception
    if f.ids and x.id not in f.ids:
        return False
    if f.system and f.system not in (system_of(x), x.source):
        return False
    if f.project and item.project_id != f.project:
        return False
    if f.entity and item.legal_entity_id != f.entity:
        return False
    if cutoff is not None and x.created_at >= cutoff:
        return False
    if f.q:
        needle = f.q.casefold()
        hay = (x.reason, x.object_id or "", x.source, x.raw, x.owner or "", str(x.id))
        if not any(needle in h.casefold() for h in hay):
            return False
    return True


def select(
    uow: Any,
    f: Filter,
    *,
    sort: str = "priority",
    today: date | None = None,
    visible: Callable[[Any], bool] | None = None,
) -> list[QueueItem]:
    """The assessed exceptions matching ``f``, in ``sort`` order.

    Args:
        visible: keeps only the exceptions the caller may see (an entity-scoped API client).
    """
    items = queue(uow, state=f.state or None, category=f.category or None, sort=sort, today=today).items
    cutoff = uow.now - timedelta(days=f.older_than) if f.older_than else None
    return [i for i in items if _matches(i, f, cutoff) and (visible is None or visible(i.exception))]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a selection: ``number`` counts from 1."""

    items: list[QueueItem]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @classmethod
    def of(cls, items: Sequence[QueueItem], number: int, size: int) -> Page:
        size = max(1, size)
        last = max(1, -(-len(items) // size))
        number = min(max(1, number), last)
        return cls(list(items[(number - 1) * size : number * size]), number, size, len(items))


@dataclass(slots=True)
class BulkPreview:
    """What retrying (replaying the work of) a selection would do, added up."""

    selected: int
    previewed: int = 0
    replayable: int = 0
    invoiced: dict[str, Decimal] = field(default_factory=dict)
    priced_value: dict[str, Decimal] = field(default_factory=dict)
    entries_priced: int = 0
    entries_billed: int = 0
    invoices: int = 0
    postings: list[str] = field(default_factory=list)
    failures: dict[int, str] = field(default_factory=dict)  # exception id -> why it would fail again
    not_replayable: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "selected": self.selected,
            "previewed": self.previewed,
            "replayable": self.replayable,
            "invoiced": {c: str(a) for c, a in sorted(self.invoiced.items())},
            "priced_value": {c: str(a) for c, a in sorted(self.priced_value.items())},
            "entries_priced": self.entries_priced,
            "entries_billed": self.entries_billed,
            "invoices": self.invoices,
            "postings": self.postings,
            "failures": {str(k): v for k, v in self.failures.items()},
            "not_replayable": self.not_replayable,
        }


def preview(
    uow: Any, items: Sequence[QueueItem], *, registry: Any, ports: Any, limit: int = PREVIEW_LIMIT
) -> BulkPreview:
    """The single replay preview of each selected exception (the first ``limit``), added up."""
    out = BulkPreview(selected=len(items))
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    priced: dict[str, Decimal] = defaultdict(Decimal)
    for item in items[:limit]:
        out.previewed += 1
        try:
            one = replay_preview(uow, item.id, registry=registry, ports=ports)
        except (LookupError, ValueError) as exc:
            out.failures[item.id] = str(exc)
            continue
        if one.runs == 0:
            out.not_replayable.append(item.id)
            continue
        out.replayable += 1
        for currency, amount in one.invoiced.items():
            invoiced[currency] += amount
        for currency, amount in one.priced_value.items():
            priced[currency] += amount
        out.entries_priced += one.entries_priced
        out.entries_billed += one.entries_billed
        out.invoices += len(one.invoices)
        out.postings += one.postings
        if one.failure:
            out.failures[item.id] = one.failure
    out.invoiced, out.priced_value = dict(invoiced), dict(priced)
    return out


CSV_COLUMNS = (
    "id",
    "priority",
    "money_at_risk",
    "currency",
    "days_to_close",
    "category",
    "state",
    "system",
    "source",
    "legal_entity_id",
    "project_id",
    "invoice_id",
    "owner",
    "created_at",
    "reason",
)


def to_csv(items: Iterable[QueueItem]) -> str:
    """The selection as CSV (RFC 4180), one row per exception, money as exact decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for i in items:
        x, money = i.exception, i.money_at_risk
        writer.writerow(
            [
                x.id,
                i.priority,
                "" if money is None else str(money.amount),
                "" if money is None else money.currency,
                "" if i.days_to_close is None else i.days_to_close,
                x.category,
                x.state,
                system_of(x),
                x.source,
                i.legal_entity_id or "",
                i.project_id or "",
                i.invoice_id or "",
                x.owner or "",
                x.created_at.isoformat(),
                x.reason,
            ]
        )
    return buffer.getvalue()
