"""The exceptions queue as a person works it: business priority, grouping, replay.

One place for the CLI (``handoffs exceptions``) and the web console to read the queue and
act on it, so both show the same numbers:

* :func:`queue` lists exceptions with their **money at risk** (the priced value of the time
  entries, invoice or expense an exception holds up, in its legal entity's currency), the
  **days to close** (to the entity's next period cutoff, from its close calendar) and the
  **business priority** derived from both (:mod:`handoffs.domain.priority`). Both are computed
  when the queue is read, since the days left change every day. ``group_by`` adds counts and
  money at risk per project, invoice, customer or message.
* :func:`replay_preview` shows what replaying an exception's work would produce, without
  changing anything (:func:`handoffs.engine.replay.replay_exception` queues and audits it).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import orjson

from handoffs.domain.contracts import Contract
from handoffs.domain.errors import DomainError
from handoffs.domain.fx import FxTable
from handoffs.domain.money import Money
from handoffs.domain.periods import period_of
from handoffs.domain.pricing import period_bounds
from handoffs.domain.priority import business_priority, cutoff
from handoffs.domain.work import TimeEntry
from handoffs.flows.replay_preview import ReplayPreview, preview

__all__ = [
    "GROUP_BY",
    "SORTS",
    "Queue",
    "QueueGroup",
    "QueueItem",
    "ReplayPreview",
    "assess",
    "queue",
    "replay_preview",
]

GROUP_BY = ("project", "invoice", "customer", "message")
SORTS = ("priority", "id", "money", "days")
GroupBy = Literal["project", "invoice", "customer", "message"]


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One exception with what it holds up and how urgent that is today."""

    exception: Any  # an ExceptionRecord
    priority: int
    money_at_risk: Money | None  # None when nothing could be priced
    days_to_close: int | None  # None when no legal entity could be found
    cutoff: date | None
    legal_entity_id: str | None = None
    project_id: str | None = None
    customer_id: str | None = None
    invoice_id: str | None = None
    period: str | None = None

    @property
    def id(self) -> int:
        return int(self.exception.id)

    @property
    def message_key(self) -> str:
        """The reason with record ids and numbers blanked, so the same failure groups together."""
        return f"{self.exception.category}: {_ID.sub('#', self.exception.reason)}"

    def as_dict(self) -> dict[str, Any]:
        money = self.money_at_risk
        return {
            "id": self.id,
            "category": self.exception.category,
            "state": self.exception.state,
            "priority": self.priority,
            "money_at_risk": None if money is None else str(money.amount),
            "currency": None if money is None else money.currency,
            "days_to_close": self.days_to_close,
            "cutoff": None if self.cutoff is None else self.cutoff.isoformat(),
            "legal_entity_id": self.legal_entity_id,
            "project_id": self.project_id,
            "customer_id": self.customer_id,
            "invoice_id": self.invoice_id,
            "period": self.period,
            "owner": self.exception.owner,
            "reason": self.exception.reason,
            "runbook": self.exception.runbook,
        }


@dataclass(frozen=True, slots=True)
class QueueGroup:
    """Exceptions sharing one business object (or one message)."""

    key: str
    count: int
    priority: int  # the most urgent in the group
    money_at_risk: dict[str, Decimal]  # per currency
    exception_ids: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "count": self.count,
            "priority": self.priority,
            "money_at_risk": {c: str(a) for c, a in sorted(self.money_at_risk.items())},
            "exception_ids": list(self.exception_ids),
        }


@dataclass(frozen=True, slots=True)
class Queue:
    items: list[QueueItem]
    group_by: str | None = None
    groups: list[QueueGroup] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"items": [i.as_dict() for i in self.items]}
        if self.group_by:
            data |= {"group_by": self.group_by, "groups": [g.as_dict() for g in self.groups]}
        return data


_ID = re.compile(r"[A-Za-z]*[-_:]?\d[\w.:-]*")


def queue(
    uow: Any,
    *,
    state: str | None = None,
    category: str | None = None,
    group_by: str | None = None,
    today: date | None = None,
    sort: str = "priority",
    limit: int | None = None,
) -> Queue:
    """The exceptions (all of them unless filtered), assessed as of ``today``.

    Args:
        sort: ``priority`` (most urgent first, then most money, fewest days, oldest),
            ``money``, ``days`` or ``id`` (oldest first).
        group_by: ``project``, ``invoice``, ``customer`` or ``message``; None for no groups.
        limit: at most this many items, after sorting (groups always count them all).
    """
    if group_by is not None and group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BY)}, not {group_by!r}")
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    today = today or uow.now.date()
    assessor = _Assessor(uow, today)
    items = [assessor.assess(r) for r in uow.exceptions.list(state=state, category=category)]
    items.sort(key=_SORT_KEYS[sort])
    groups = _groups(items, group_by) if group_by else []
    return Queue(items[:limit] if limit else items, group_by, groups)


def assess(uow: Any, exception_id: int, today: date | None = None) -> QueueItem | None:
    """One exception with its money at risk, days to close and priority (None if there is none)."""
    record = uow.exceptions.get(exception_id)
    return None if record is None else _Assessor(uow, today or uow.now.date()).assess(record)


def _money_sort(i: QueueItem) -> Decimal:
    return -(i.money_at_risk.amount if i.money_at_risk else Decimal(0))


def _days_sort(i: QueueItem) -> int:
    return i.days_to_close if i.days_to_close is not None else 10**6


_SORT_KEYS: dict[str, Any] = {
    "priority": lambda i: (i.priority, _money_sort(i), _days_sort(i), i.id),
    "money": lambda i: (_money_sort(i), i.id),
    "days": lambda i: (_days_sort(i), i.priority, i.id),
    "id": lambda i: i.id,
}


def _groups(items: Sequence[QueueItem], by: str) -> list[QueueGroup]:
    members: dict[str, list[QueueItem]] = defaultdict(list)
    for item in items:
        key = item.message_key if by == "message" else getattr(item, f"{by}_id")
        members[key or "(none)"].append(item)
    groups = []
    for key, group in members.items():
        money: dict[str, Decimal] = defaultdict(Decimal)
        for i in group:
            if i.money_at_risk is not None:
                money[i.money_at_risk.currency] += i.money_at_risk.amount
        groups.append(
            QueueGroup(
                key, len(group), min(i.priority for i in group), dict(money), tuple(i.id for i in group)
            )
        )
    groups.sort(key=lambda g: (g.priority, -sum(g.money_at_risk.values(), Decimal(0)), g.key))
    return groups


@dataclass(slots=True)
class _Subject:
    entries: list[str] = field(default_factory=list)
    entry_doc: dict[str, Any] | None = None  # a time entry that failed before it was stored
    invoice_id: str | None = None
    expense_id: str | None = None
    project_id: str | None = None
    period: str | None = None


class _Assessor:
    """Prices what each exception holds; reference data is read once per queue."""

    def __init__(self, uow: Any, today: date) -> None:
        self._uow = uow
        self._today = today
        self._fx: FxTable | None = None

    def assess(self, record: Any) -> QueueItem:
        subject = _subject(record)
        uow = self._uow
        invoice = uow.invoices.get(subject.invoice_id) if subject.invoice_id else None
        amounts: list[tuple[Money, date]] = []
        if invoice is not None:
            subject.project_id = subject.project_id or invoice.project_id
            subject.period = invoice.period
            amounts.append((invoice.total, invoice.issue_date))
        project = uow.objects.get("project", subject.project_id) if subject.project_id else None
        contract = uow.objects.get("contract", project.contract_id or "") if project else None
        entries = self._entries(subject, contract)
        for entry in entries:
            project = project or uow.objects.get("project", entry.project_id)
            subject.period = subject.period or entry.period
            if contract is None and project is not None:
                contract = uow.objects.get("contract", project.contract_id or "")
            priced = self._price(entry, contract)
            if priced is not None:
                amounts.append((priced, entry.work_date))
        if subject.expense_id:
            expense = uow.objects.get("expense", subject.expense_id)
            if expense is not None:
                project = project or uow.objects.get("project", expense.project_id)
                subject.period = subject.period or period_of(expense.incurred_on)
                amounts.append((expense.amount, expense.incurred_on))
        entity = uow.objects.get("legal_entity", project.legal_entity_id) if project else None
        if invoice is not None and entity is None:
            entity = uow.objects.get("legal_entity", invoice.legal_entity_id)
        money = self._total(amounts, entity)
        period = subject.period or period_of(record.created_at.date())
        close = cutoff(period, self._today, entity.close_working_day) if entity else None
        days = (close - self._today).days if close else None
        at_risk = money.amount if money is not None and days is not None else Decimal(0)
        return QueueItem(
            exception=record,
            priority=business_priority(at_risk, days or 0, base=record.priority),
            money_at_risk=money,
            days_to_close=days,
            cutoff=close,
            legal_entity_id=entity.id if entity else None,
            project_id=project.id if project else subject.project_id,
            customer_id=(invoice.customer_id if invoice else None)
            or (project.customer_id if project else None),
            invoice_id=subject.invoice_id,
            period=subject.period,
        )

    def _entries(self, subject: _Subject, contract: Contract | None) -> list[TimeEntry]:
        uow = self._uow
        entries = [s.entry for s in uow.time_entries.get_many(subject.entries).values()]
        if not entries and subject.entry_doc is not None:
            try:
                from handoffs.domain.catalog import decode_record

                entries = [decode_record(subject.entry_doc).obj]
            except (DomainError, TypeError, ValueError, KeyError):
                entries = []
        if not entries and not subject.invoice_id and subject.project_id and subject.period and contract:
            # a billing run that failed: what it would have billed for the period
            first, last = period_bounds(subject.period)
            candidates = uow.time_entries.billing_candidates(subject.project_id, last)
            entries = [e for e in candidates if e.work_date >= first]
        return entries

    def _price(self, entry: TimeEntry, contract: Contract | None) -> Money | None:
        if contract is None or not entry.billable:
            return None
        role = entry.role
        if role is None:
            resource = self._uow.objects.get("resource", entry.resource_id)
            role = getattr(resource, "role", None)
        try:
            rate = contract.rate_for(str(role), entry.work_date)[1]
        except DomainError:
            return None  # no rate for the role: nothing to price it with
        return Money(rate.amount * entry.hours, rate.currency)

    def _total(self, amounts: list[tuple[Money, date]], entity: Any) -> Money | None:
        if not amounts:
            return None
        currency = entity.currency if entity is not None else amounts[0][0].currency
        total = Decimal(0)
        for money, day in amounts:
            if money.currency != currency:
                if self._fx is None:
                    self._fx = FxTable(self._uow.objects.all("fx_rate"))
                try:
                    money = self._fx.convert(money, currency, day).converted
                except DomainError:
                    continue  # no rate: left out rather than guessed
            total += money.amount
        return Money(total, currency).rounded()


def _subject(record: Any) -> _Subject:
    subject = _Subject()
    try:
        data = orjson.loads(record.raw)
    except orjson.JSONDecodeError:
        data = None
    data = data if isinstance(data, dict) else {}
    kind, oid = record.object_type, record.object_id
    if kind == "time_entry" and oid:
        subject.entries = [oid]
    elif kind == "invoice" and oid:
        subject.invoice_id = oid
    elif kind == "expense" and oid:
        subject.expense_id = oid
    if not (subject.entries or subject.invoice_id or subject.expense_id):
        if isinstance(data.get("entry_id"), str):
            subject.entries = [data["entry_id"]]
        elif isinstance(data.get("invoice_id"), str):
            subject.invoice_id = data["invoice_id"]
        elif isinstance(data.get("expense_id"), str):
            subject.expense_id = data["expense_id"]
    if data.get("type") == "time_entry":
        subject.entry_doc = data
        subject.entries = subject.entries or ([data["id"]] if isinstance(data.get("id"), str) else [])
    elif data.get("type") == "expense" and isinstance(data.get("id"), str):
        subject.expense_id = subject.expense_id or data["id"]
    project = record.detail.get("project_id") or data.get("project_id")
    correlation = record.correlation_id or ""
    if not project and correlation.startswith("project:"):
        project = correlation[len("project:") :]
    subject.project_id = project if isinstance(project, str) else None
    period = data.get("period") or record.detail.get("period")
    subject.period = period if isinstance(period, str) and len(period) == 7 else None
    return subject


def replay_preview(uow: Any, exception_id: int, *, registry: Any, ports: Any) -> ReplayPreview:
    """What replaying the exception's work would produce, rolled back (see :mod:`.replay_preview`).

    The replay itself (queued, resolved and audited): :func:`handoffs.engine.replay.replay_exception`.
    """
    return preview(uow, exception_id, registry=registry, ports=ports)
