"""Streamed canonical JSON Lines for backfills: a firm's reference data, then its time entries.

Deterministic for a seed, and streamed line by line so that ten million entries never sit
in memory. Each contract has two rate-card versions; the second takes effect mid-month so
that one invoice period straddles a rate change.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from handoffs.domain.catalog import type_name_of
from handoffs.domain.codec import encode
from handoffs.domain.contracts import Contract, RateCardVersion
from handoffs.domain.money import Money
from handoffs.domain.parties import Customer, Resource
from handoffs.domain.reference import LegalEntity, TaxCode
from handoffs.domain.work import Assignment, Project, TimeEntry

__all__ = ["ROLES", "backfill_lines"]

ROLES = {
    "analyst": Decimal("120.00"),
    "consultant": Decimal("150.00"),
    "manager": Decimal("185.00"),
    "partner": Decimal("260.00"),
}
MALFORMED = [
    '{"type": "time_entry", "id": "bad-hours", "resource_id": "R-0001", "project_id": "P-001",'
    ' "work_date": "2026-01-05", "hours": "25", "status": "approved"}',
    '{"type": "time_entry", "id": "bad-json", "hours": ',
    '{"type": "time_entry", "id": "bad-date", "resource_id": "R-0001", "project_id": "P-001",'
    ' "work_date": "2026-02-30", "hours": "4", "status": "approved"}',
    '{"type": "invoice_template", "id": "x"}',
    '{"type": "customer", "id": "C-bad", "name": "No Currency Ltd", "legal_entity_id": "LE-US",'
    ' "currency": "XYZ"}',
    '{"type": "time_entry", "id": "bad-float", "resource_id": "R-0001", "project_id": "P-001",'
    ' "work_date": "2026-01-05", "hours": 7.5, "status": "approved"}',
]


def _line(obj: Any, **envelope: Any) -> str:
    return orjson.dumps({"type": type_name_of(obj), **encode(obj), **envelope}).decode()


def backfill_lines(
    *,
    entries: int,
    projects: int = 20,
    seed: int = 7,
    start: date = date(2026, 1, 1),
    months: int = 1,
    malformed: int = 0,
) -> Iterator[str]:
    """Yield a firm with ``projects`` T&M projects and ``entries`` approved billable entries."""
    rng = random.Random(seed)
    yield _line(
        LegalEntity(
            id="LE-US",
            name="Handoffs Demo Inc.",
            country="US",
            currency="USD",
            default_tax_code_id="TX-US-EXEMPT",
        )
    )
    yield _line(TaxCode(id="TX-US-EXEMPT", legal_entity_id="LE-US", name="US services", rate=Decimal(0)))
    end = (start.replace(day=1) + timedelta(days=32 * months)).replace(day=1) - timedelta(days=1)
    change = start.replace(day=15)
    resources_per_project = 5
    for p in range(1, projects + 1):
        pid, cid, kid = f"P-{p:03d}", f"C-{p:03d}", f"K-{p:03d}"
        yield _line(Customer(id=cid, name=f"Client {p:03d}", legal_entity_id="LE-US", currency="USD"))
        uplift = Decimal(100 + rng.choice((3, 4, 5, 6))) / 100
        v1 = {role: rate for role, rate in ROLES.items()}
        v2 = {role: (rate * uplift).quantize(Decimal("0.01")) for role, rate in ROLES.items()}
        yield _line(
            Contract(
                id=kid,
                customer_id=cid,
                legal_entity_id="LE-US",
                currency="USD",
                billing_model="time_and_materials",
                start_date=start,
                end_date=end,
                rate_card=(
                    RateCardVersion(version=1, effective_from=start, rates=v1),
                    RateCardVersion(version=2, effective_from=change, rates=v2),
                ),
            )
        )
        yield _line(
            Project(
                id=pid,
                name=f"Project {p:03d}",
                legal_entity_id="LE-US",
                customer_id=cid,
                contract_id=kid,
                start_date=start,
                end_date=end,
            )
        )
    roles = list(ROLES)
    for r in range(1, projects * resources_per_project + 1):
        role = roles[r % len(roles)]
        yield _line(
            Resource(
                id=f"R-{r:04d}",
                name=f"Consultant {r:04d}",
                legal_entity_id="LE-US",
                role=role,
                cost_rate=Money(ROLES[role] * Decimal("0.45"), "USD"),
            )
        )
        yield _line(
            Assignment(
                id=f"A-{r:04d}",
                project_id=f"P-{(r - 1) // resources_per_project + 1:03d}",
                resource_id=f"R-{r:04d}",
                role=role,
                start_date=start,
                end_date=end,
            )
        )
    days = (end - start).days + 1
    bad_at = set(rng.sample(range(entries), min(malformed, entries))) if malformed else set()
    approved_at = datetime(end.year, end.month, end.day, 18, tzinfo=UTC)
    bad_seen = 0
    for n in range(entries):
        if n in bad_at:
            yield MALFORMED[bad_seen % len(MALFORMED)]
            bad_seen += 1
        r = n % (projects * resources_per_project) + 1
        yield _line(
            TimeEntry(
                id=f"TE-{n + 1:08d}",
                resource_id=f"R-{r:04d}",
                project_id=f"P-{(r - 1) // resources_per_project + 1:03d}",
                assignment_id=f"A-{r:04d}",
                work_date=start + timedelta(days=rng.randrange(days)),
                hours=Decimal(rng.randint(1, 32)) / 4,
                status="approved",
                approved_by="M-0001",
                approved_at=approved_at,
            ),
            source_system="timesheets",
            source_version=1,
        )
