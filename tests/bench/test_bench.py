"""The benchmarks run end to end at a small size and report every figure they promise.

No time is asserted: only that the figures exist, are positive, and that a run which lost or
doubled an entry would be refused as a figure.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy.engine import make_url

from handoffs.bench import peers
from handoffs.bench.backfill import run_backfill
from handoffs.bench.measure import count_entries, write_backfill
from handoffs.bench.suite import table, targets


def _server(database_url: str) -> str | None:
    url = make_url(database_url)
    return (
        None if url.get_backend_name() == "sqlite" else url.set(database="postgres").render_as_string(False)
    )


def test_backfill_reports_pipeline_ceiling_and_peer(database_url: str) -> None:
    server = _server(database_url)
    kind = "sqlite" if server is None else "postgres"
    result = run_backfill(1000, 1, database=kind, workers=1 if server is None else 2, postgres_url=server)
    report = result.as_dict()
    assert report["entries"] == 1000 and report["database"] == kind
    assert report["pipeline_entries_per_s"]["median"] > 0
    assert report["ceiling_entries_per_s"]["median"] > report["pipeline_entries_per_s"]["median"]
    assert report["dlt_entries_per_s"]["median"] > 0 and report["pipeline_over_dlt"] > 0
    assert report["peak_rss_mb"] > 0


def test_ceilings_and_dlt_load_every_entry(database_url: str, tmp_path: Path) -> None:
    from sqlalchemy import create_engine, inspect, text

    path = write_backfill(tmp_path / "b.jsonl", 1200, projects=3)
    assert count_entries(path) == 1200
    if make_url(database_url).get_backend_name() == "sqlite":
        assert peers.ceiling_sqlite(path, tmp_path / "c.db") > 0
        assert peers.dlt_load(path, "sqlite", str(tmp_path / "d.db")) > 0
        engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from entries")).scalar_one() == 1200
        return
    assert peers.ceiling_postgres(path, database_url) > 0  # the table is dropped after timing
    assert peers.dlt_load(path, "postgres", database_url) > 0
    engine = create_engine(make_url(database_url).set(drivername="postgresql+psycopg"))
    schemas = [s for s in inspect(engine).get_schema_names() if s.startswith("handoffs_bench_")]
    with engine.connect() as conn:
        assert conn.execute(text(f'select count(*) from "{schemas[0]}".time_entries')).scalar_one() == 1200
    engine.dispose()


def test_dlt_refuses_an_unknown_destination(tmp_path: Path) -> None:
    path = write_backfill(tmp_path / "b.jsonl", 1000, projects=2)
    with pytest.raises(ValueError, match="unknown dlt destination"):
        peers.dlt_load(path, "oracle", "x")


def test_targets_and_table_from_measured_results() -> None:
    results = {
        "backfill_sqlite": {
            "benchmark": "backfill",
            "entries": 1000,
            "pipeline_entries_per_s": {"median": 2500.0, "min": 2400.0, "max": 2600.0},
            "pipeline_over_dlt": 0.4,
            "pipeline_over_ceiling": 0.02,
            "peak_rss_mb": 120.0,
        },
        "backfill_postgres_1": {
            "benchmark": "backfill",
            "pipeline_entries_per_s": {"median": 1000.0},
            "work_s": {"median": 30.0},
        },
        "backfill_postgres_2": {
            "benchmark": "backfill",
            "pipeline_entries_per_s": {"median": 1700.0},
            "work_s": {"median": 20.0},
        },
        "latency": {"benchmark": "latency", "p99_s": 0.8, "p50_s": 0.2, "peak_rss_mb": 90.0},
        "reconcile": {"benchmark": "reconcile", "entries": 1000, "seconds": {"median": 0.1}},
    }
    found = targets(results)
    rows = {r["target"]: r for r in found}
    assert rows["backfill on SQLite >= 20,000 entries/s"]["met"] is False
    scale = [(r["measured"], r["met"], r["note"]) for r in found if r["target"].startswith("2 workers")]
    assert scale == [
        (1.7, True, "whole pipeline; the load step is one process"),
        (1.5, False, "worker step only"),
    ]
    assert rows["latency p99 < 1 s at 200 approvals/s"]["met"] is True
    assert rows["reconciliation of 1,000,000 entries < 5 s"]["met"] is None  # measured on too few
    rendered = table({**results, "targets": targets(results)})
    assert "| backfill_sqlite | pipeline_entries_per_s | 2,500.0 | 2,400.0 | 2,600.0 | 120.0 |" in rendered
    assert "| latency p99 < 1 s at 200 approvals/s | 0.8 | yes |  |" in rendered


def test_reconcile_times_check_controls_and_analytics_on_a_store_it_fills_or_is_given(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from handoffs.bench.scenarios import reconcile_time
    from handoffs.cli.main import app

    filled = reconcile_time(1000, 1)
    assert filled["entries"] == filled["billed_entries"] == filled["period_entries"] == 1000
    assert filled["unexplained_breaks"] == 0 and filled["analytics_products"] == 9
    for key in ("seconds", "check_s", "controls_s", "analytics_s"):
        assert filled[key]["median"] > 0
    store = tmp_path / "hub.db"
    from handoffs.bench.backfill import run_pipeline

    path = write_backfill(tmp_path / "entries.jsonl", 1000)
    run_pipeline(path, f"sqlite:///{store}", 1, count_entries(path))
    result = CliRunner().invoke(app, ["bench", "reconcile", "--store", str(store), "--runs", "1", "--json"])
    assert result.exit_code == 0, result.output
    given = orjson.loads(result.stdout[result.stdout.index("{") :])
    assert given["entries"] == given["billed_entries"] == 1000 and given["unexplained_breaks"] == 0
    wrong = CliRunner().invoke(app, ["bench", "reconcile", "--store", str(store), "--period", "2026-1"])
    assert wrong.exit_code == 2 and "YYYY-MM" in wrong.output
