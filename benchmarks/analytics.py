"""Time the analytics data products on a large generated firm (SQLite).

    python benchmarks/analytics.py --entries 1000000 --projects 200 --months 12 --db /tmp/bench.db

Generation uses :func:`handoffs.bench.datagen.backfill_lines` for the firm (legal entity,
contracts, projects, 5 resources per project) and its approved time entries, and then
writes straight into the store with batched Core inserts instead of the hub's flows (which
would take hours at this size). What the flows would have produced is synthesised:

* every entry priced at its contract's rate on the work date and billed;
* one TimeEntryApproved event per entry (occurred_at = the entry's approved_at);
* one invoice per project and month with one line, billing links for all its entries,
  an InvoicePosted event recorded 3 days after the month end, an as-delivered revenue
  event equal to the invoice, and a payment 40 days after the issue date for 3 in 4;
* one resource request and one assignment per resource, and 1,000 resolved exceptions.

The database is generated once and reused. Products are measured in a child process, so
its peak RSS is the analytics' own. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert

from handoffs.bench.datagen import backfill_lines
from handoffs.domain.catalog import decode_record
from handoffs.store.db import make_engine
from handoffs.store.migrate import upgrade
from handoffs.store.serde import to_doc
from handoffs.store.tables import (
    billed_sources,
    exceptions,
    invoice_lines,
    invoices,
    messages,
    objects,
    time_entries,
)

CHUNK = 50_000


def _objects_row(type_: str, obj: Any, now: datetime) -> dict[str, Any]:
    return {
        "type": type_,
        "id": obj.id,
        "version": 1,
        "source_system": "bench",
        "source_version": None,
        "doc": to_doc(obj),
        "updated_at": now,
    }


def generate(db: Path, entries: int, projects: int, months: int) -> None:
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    now = datetime(2027, 3, 1, tzinfo=UTC)
    contracts: dict[str, Any] = {}
    roles: dict[str, str] = {}
    refs: list[dict[str, Any]] = []
    te_rows: list[dict[str, Any]] = []
    msg_rows: list[dict[str, Any]] = []
    billed: dict[tuple[str, str], list[tuple[str, Decimal, Decimal]]] = defaultdict(list)
    started = time.perf_counter()
    with engine.begin() as conn:

        def flush(force: bool = False) -> None:
            if te_rows and (force or len(te_rows) >= CHUNK):
                conn.execute(insert(time_entries), te_rows)
                conn.execute(insert(messages), msg_rows)
                te_rows.clear()
                msg_rows.clear()

        for line in backfill_lines(entries=entries, projects=projects, months=months):
            data = orjson.loads(line)
            if data["type"] != "time_entry":
                record = decode_record(data)
                refs.append(_objects_row(record.type, record.obj, now))
                if record.type == "contract":
                    contracts[record.obj.id] = record.obj
                elif record.type == "resource":
                    roles[record.obj.id] = record.obj.role
                continue
            day, hours, role = (
                date.fromisoformat(data["work_date"]),
                Decimal(data["hours"]),
                roles[data["resource_id"]],
            )
            version, rate = contracts[data["project_id"].replace("P-", "K-")].rate_for(role, day)
            period = data["work_date"][:7]
            te_rows.append(
                {
                    "id": data["id"],
                    "project_id": data["project_id"],
                    "resource_id": data["resource_id"],
                    "work_date": day,
                    "period": period,
                    "hours": hours,
                    "billable": True,
                    "status": "approved",
                    "billing_state": "billed",
                    "rate": rate.amount,
                    "currency": "USD",
                    "role": role,
                    "rate_card_version": version.version,
                    "version": 1,
                    "source_system": "timesheets",
                    "source_version": "1",
                    "doc": line,
                    "updated_at": now,
                    "recognised_by": None,
                }
            )
            approved = datetime.fromisoformat(data["approved_at"])
            msg_rows.append(
                {
                    "message_id": f"tea-{data['id']}",
                    "kind": "event",
                    "type": "TimeEntryApproved",
                    "payload": orjson.dumps(
                        {"entry_id": data["id"], "project_id": data["project_id"], "period": period}
                    ).decode(),
                    "correlation_id": f"project:{data['project_id']}",
                    "occurred_at": approved,
                    "recorded_at": now,
                }
            )
            billed[(data["project_id"], period)].append((data["id"], hours, rate.amount))
            flush()
        flush(force=True)
        conn.execute(insert(objects), refs)
        _billing(conn, billed, now)
        _staffing_and_exceptions(conn, roles, now)
    print(f"generated {entries:,} entries in {time.perf_counter() - started:.1f} s -> {db}")


def _billing(
    conn: Any, billed: dict[tuple[str, str], list[tuple[str, Decimal, Decimal]]], now: datetime
) -> None:
    from handoffs.domain.billing import Payment, RevenueEvent
    from handoffs.domain.money import Money
    from handoffs.domain.pricing import period_bounds

    heads: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    posts: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    for n, ((project, period), items) in enumerate(sorted(billed.items())):
        inv_id, line_id, last = f"INV-{project}-{period}", f"IL-{project}-{period}", period_bounds(period)[1]
        amount = sum((h * r for _, h, r in items), Decimal(0)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        hours = sum((h for _, h, _ in items), Decimal(0))
        heads.append(
            {
                "id": inv_id,
                "kind": "invoice",
                "project_id": project,
                "contract_id": project.replace("P-", "K-"),
                "customer_id": project.replace("P-", "C-"),
                "legal_entity_id": "LE-US",
                "period": period,
                "currency": "USD",
                "subtotal": amount,
                "tax": Decimal(0),
                "total": amount,
                "issue_date": last,
                "status": "posted",
                "credits_invoice_id": None,
                "correlation_id": f"project:{project}",
                "doc": "{}",
                "created_at": now,
            }
        )
        lines.append(
            {
                "id": line_id,
                "invoice_id": inv_id,
                "line_no": 1,
                "kind": "time",
                "quantity": hours,
                "unit_price": Decimal(0),
                "amount": amount,
                "tax": Decimal(0),
                "currency": "USD",
                "role": None,
                "resource_id": None,
                "rate_card_version": None,
            }
        )
        links.extend(
            {
                "source_type": "time_entry",
                "source_id": e,
                "invoice_line_id": line_id,
                "invoice_id": inv_id,
                "released_by": None,
                "created_at": now,
            }
            for e, _, _ in items
        )
        posted = datetime(last.year, last.month, last.day, 9, tzinfo=UTC) + timedelta(days=3)
        posts.append(
            {
                "message_id": f"ip-{inv_id}",
                "kind": "event",
                "type": "InvoicePosted",
                "payload": orjson.dumps({"invoice_id": inv_id, "system": "erp"}).decode(),
                "correlation_id": f"project:{project}",
                "occurred_at": posted,
                "recorded_at": posted,
            }
        )
        usd = Money(amount, "USD")
        docs.append(
            _objects_row(
                "revenue_event",
                RevenueEvent(
                    id=f"REV-{project}-{period}",
                    contract_id=project.replace("P-", "K-"),
                    project_id=project,
                    legal_entity_id="LE-US",
                    period=period,
                    recognised_on=last,
                    amount=usd,
                    method="as_delivered",
                ),
                now,
            )
        )
        if n % 4:
            docs.append(
                _objects_row(
                    "payment",
                    Payment(
                        id=f"PAY-{inv_id}",
                        invoice_id=inv_id,
                        customer_id=project.replace("P-", "C-"),
                        amount=usd,
                        received_on=last + timedelta(days=40),
                    ),
                    now,
                )
            )
    conn.execute(insert(invoices), heads)
    conn.execute(insert(invoice_lines), lines)
    for i in range(0, len(links), CHUNK):
        conn.execute(insert(billed_sources), links[i : i + CHUNK])
    conn.execute(insert(messages), posts)
    conn.execute(insert(objects), docs)


def _staffing_and_exceptions(conn: Any, roles: dict[str, str], now: datetime) -> None:
    from handoffs.domain.work import Assignment, ResourceRequest
    from handoffs.store.tables import object_history

    docs, history = [], []
    for n, (rid, role) in enumerate(sorted(roles.items())):
        project = f"P-{n // 5 + 1:03d}"
        req = ResourceRequest(
            id=f"REQ-{rid}",
            project_id=project,
            role=role,
            start_date=date(2026, 1, 1),
            end_date=date(2026, 12, 31),
            hours_per_week=Decimal(40),
            status="filled",
        )
        asg = Assignment(
            id=f"AR-{rid}",
            project_id=project,
            resource_id=rid,
            role=role,
            start_date=date(2026, 1, 1 + n % 5),
            request_id=req.id,
        )
        for type_, obj, seen in (
            ("resource_request", req, now),
            ("assignment", asg, now + timedelta(hours=n % 72)),
        ):
            row = _objects_row(type_, obj, now)
            docs.append(row)
            history.append(
                {k: row[k] for k in ("type", "id", "version", "source_system", "source_version", "doc")}
                | {"recorded_at": seen}
            )
    conn.execute(insert(objects), docs)
    conn.execute(insert(object_history), history)
    created = datetime(2026, 6, 1, tzinfo=UTC)
    conn.execute(
        insert(exceptions),
        [
            {
                "category": "validation",
                "state": "resolved",
                "priority": 3,
                "owner": None,
                "source": "bench",
                "reason": "bench",
                "raw": "{}",
                "detail": "{}",
                "message_id": None,
                "consumer": None,
                "work_id": None,
                "attempts": 0,
                "object_type": "time_entry",
                "object_id": f"TE-{n * 997 + 1:08d}",
                "correlation_id": None,
                "fingerprint": None,
                "created_at": created,
                "updated_at": created + timedelta(hours=n % 100),
                "resolution": "fixed",
            }
            for n in range(1000)
        ],
    )


def measure(db: Path) -> None:
    from handoffs.analytics import PRODUCTS, Scope, compute

    engine = make_engine(f"sqlite:///{db}")
    results = {}
    with engine.connect() as conn:
        for name in PRODUCTS:
            started = time.perf_counter()
            rows = len(compute(conn, Scope(), [name])[name].rows)
            results[name] = (round(time.perf_counter() - started, 2), rows)
        started = time.perf_counter()
        compute(conn, Scope())
        results["all (one context)"] = (round(time.perf_counter() - started, 2), 0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, (seconds, rows) in results.items():
        print(f"{name:<22} {seconds:>7.2f} s  {rows:>6} rows")
    print(f"peak RSS {rss:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="run", choices=("run", "measure"))
    parser.add_argument("--db", type=Path, default=Path("/tmp/handoffs-analytics-bench.db"))
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    if args.mode == "measure":
        measure(args.db)
        return
    if not args.db.exists():
        generate(args.db, args.entries, args.projects, args.months)
    subprocess.run([sys.executable, __file__, "measure", "--db", str(args.db)], check=True)


if __name__ == "__main__":
    main()
