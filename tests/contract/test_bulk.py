"""Bulk inserts store exactly what SQLAlchemy's typed inserts store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from handoffs.bootstrap import App
from handoffs.store.bulk import insert_many, insert_returning, update_many
from handoffs.store.tables import messages, time_entries

NOW = datetime(2026, 1, 31, 12, 30, 15, 123456, tzinfo=UTC)
COLUMNS = ("id", "project_id", "resource_id", "work_date", "period", "hours", "billable", "status")
COLUMNS += ("billing_state", "rate", "currency", "version", "source_system", "doc")


def entry(entry_id: str, hours: str) -> tuple[object, ...]:
    return (entry_id, "P-1", "R-1", date(2026, 1, 5), "2026-01", Decimal(hours), True, "approved")


def _raw(hub: App, entry_id: str) -> tuple[object, ...]:
    with hub.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT work_date, hours, billable, rate, updated_at FROM time_entries WHERE id = "
            + ("?" if conn.dialect.paramstyle == "qmark" else "%s"),
            (entry_id,),
        ).one()
    return tuple(row)


def test_bulk_rows_are_stored_like_typed_rows(hub: App) -> None:
    common = ("unpriced", Decimal("150.005"), "USD", 1, "time", "{}")
    typed = dict(zip(COLUMNS, (*entry("T-typed", "7.50"), *common), strict=True))
    with hub.uow() as uow:
        uow.connection.execute(insert(time_entries), [typed | {"updated_at": NOW}])
        rows = [(*entry("T-bulk", "7.50"), *common)]
        insert_many(uow.connection, time_entries, COLUMNS, rows, {"updated_at": NOW})
        uow.commit()
    assert _raw(hub, "T-bulk") == _raw(hub, "T-typed")
    with hub.engine.connect() as conn:
        got = conn.execute(select(time_entries).where(time_entries.c.id == "T-bulk")).one()
    assert (got.hours, got.rate, got.updated_at) == (Decimal("7.50"), Decimal("150.005"), NOW)


def test_bulk_updates_set_values_like_typed_updates(hub: App) -> None:
    common = ("unpriced", None, None, 1, "time", "{}")
    rows = [(*entry(e, "8"), *common) for e in ("T-typed", "T-bulk", "T-other")]
    later = NOW + timedelta(days=1)
    with hub.uow() as uow:
        insert_many(uow.connection, time_entries, COLUMNS, rows, {"updated_at": NOW})
        uow.connection.execute(
            update(time_entries)
            .where(time_entries.c.id == "T-typed")
            .values(rate=Decimal("99.1250"), currency="EUR", billing_state="priced", updated_at=later)
        )
        cols = ("rate", "currency", "billing_state")
        sets = [(Decimal("99.1250"), "EUR", "priced", "T-bulk")]
        update_many(uow.connection, time_entries, "id", cols, sets, {"updated_at": later})
        uow.commit()
    assert _raw(hub, "T-bulk") == _raw(hub, "T-typed") != _raw(hub, "T-other")
    with hub.engine.connect() as conn:
        got = conn.execute(select(time_entries).where(time_entries.c.id == "T-bulk")).one()
    assert (got.rate, got.currency, got.billing_state, got.updated_at) == (
        Decimal("99.1250"),
        "EUR",
        "priced",
        later,
    )


def test_bulk_inserts_refuse_floats_and_naive_timestamps(hub: App) -> None:
    row = (*entry("T-1", "1"), "unpriced", 1.5, "USD", 1, "time", "{}")
    with hub.uow() as uow, pytest.raises(TypeError):
        insert_many(uow.connection, time_entries, COLUMNS, [row], {"updated_at": NOW})
    row = (*entry("T-1", "1"), "unpriced", None, None, 1, "time", "{}")
    with hub.uow() as uow, pytest.raises(ValueError, match="timezone-aware"):
        insert_many(uow.connection, time_entries, COLUMNS, [row], {"updated_at": NOW.replace(tzinfo=None)})


def test_insert_returning_skips_conflicts_and_converts_timestamps(hub: App) -> None:
    cols = ("message_id", "kind", "type", "payload", "correlation_id", "occurred_at")
    later = NOW.astimezone(timezone(timedelta(hours=2)))
    rows = [(f"m-{n}", "event", "X", "{}", "c", later) for n in range(1200)]  # more than one statement
    returning = ("seq", "message_id")
    with hub.uow() as uow:
        first = insert_returning(uow.connection, messages, cols, rows[:3], returning, {"recorded_at": NOW})
        uow.commit()
    with hub.uow() as uow:
        again = insert_returning(
            uow.connection, messages, cols, rows, returning, {"recorded_at": NOW}, skip_conflicts=True
        )
        uow.commit()
    assert sorted(m for _, m in first) == ["m-0", "m-1", "m-2"]
    assert len(again) == 1197 and not {m for _, m in again} & {"m-0", "m-1", "m-2"}
    with hub.engine.connect() as conn:
        stored = conn.execute(select(messages.c.occurred_at).where(messages.c.message_id == "m-7")).scalar()
    assert stored == NOW
    with hub.uow() as uow, pytest.raises(IntegrityError):
        insert_returning(uow.connection, messages, cols, rows[:1], returning, {"recorded_at": NOW})
