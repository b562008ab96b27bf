"""What one API client may put into the firm's exception queue.

The exceptions a client's records raise carry the legal entity they concern (the record's,
else the client's only entity), so readers scoped to other entities never see them. A client
may raise at most ``ApiSettings.exception_budget`` exceptions in a sliding
``exception_window``; a request that would take it past that is refused whole (``429`` with
``Retry-After``) and nothing of it is kept. Repeats of a known bad record are not new
exceptions and cost nothing.
"""

from __future__ import annotations

import math
from datetime import timedelta

from handoffs.api.context import ApiSettings, Principal
from handoffs.store.uow import SqlUnitOfWork

__all__ = ["ExceptionBudgetSpent", "charge_exceptions"]


class ExceptionBudgetSpent(Exception):
    """The request would raise more exceptions than the client may; it was rolled back."""

    def __init__(self, retry_after: int, budget: int, window: int) -> None:
        super().__init__(
            f"this client may raise at most {budget} exceptions in {window} s; "
            f"fix the records it sends, or retry in {retry_after} s"
        )
        self.retry_after = retry_after


def charge_exceptions(
    uow: SqlUnitOfWork,
    principal: Principal,
    settings: ApiSettings,
    source: str,
    entities: dict[tuple[str, str], str | None],
) -> None:
    """Scope the exceptions this unit of work opened for ``source``; raise if over the budget."""
    opened = list(uow.exceptions.added)
    if not opened:
        return
    only = next(iter(principal.entities)) if principal.entities and len(principal.entities) == 1 else None
    scoped: dict[int, str] = {}
    for exception_id in opened:
        record = uow.exceptions.get(exception_id)
        if record is None or record.source != source:
            continue
        entity = entities.get((record.object_type or "", record.object_id or "")) or only
        if entity is not None:
            scoped[exception_id] = entity
    uow.exceptions.set_entities(scoped)
    window = settings.exception_window
    raised, first = uow.exceptions.raised_since(source, uow.now - timedelta(seconds=window))
    if raised > settings.exception_budget:
        wait = window if first is None else (first - uow.now).total_seconds() + window
        raise ExceptionBudgetSpent(max(1, math.ceil(wait)), settings.exception_budget, window)
