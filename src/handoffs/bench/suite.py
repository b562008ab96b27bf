"""Every benchmark in one run, and the targets of the performance issue checked against the figures.

``handoffs bench all --json > results.json`` runs them; ``handoffs bench table results.json``
prints the Markdown table that docs/performance.md carries. Targets are reported, never asserted.
"""

from __future__ import annotations

import platform
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from handoffs.bench import scenarios
from handoffs.bench.backfill import run_backfill

__all__ = ["run_all", "table"]


def run_all(
    *,
    entries: int,
    runs: int,
    postgres_url: str | None,
    latency_seconds: int = 60,
    reconcile_entries: int | None = None,
    on_progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "cpus": __import__("os").cpu_count(),
            "platform": platform.platform(),
        },
    }

    def log(name: str) -> Callable[[int, dict[str, float]], None]:
        return lambda i, r: on_progress(f"{name} run {i + 1}: {r['entries_per_s']:.0f} entries/s")

    on_progress("backfill on SQLite")
    results["backfill_sqlite"] = run_backfill(entries, runs, on_run=log("sqlite")).as_dict()
    if postgres_url:
        for workers in (1, 2):
            on_progress(f"backfill on PostgreSQL, {workers} worker(s)")
            results[f"backfill_postgres_{workers}"] = run_backfill(
                entries,
                runs,
                database="postgres",
                workers=workers,
                postgres_url=postgres_url,
                peers_too=workers == 1,
                on_run=log(f"postgres x{workers}"),
            ).as_dict()
    on_progress("latency")
    results["latency"] = scenarios.latency(200, latency_seconds, on_progress=on_progress)
    on_progress("month-end peak")
    results["month_end"] = scenarios.month_end(1000, runs, on_progress=on_progress)
    on_progress("reconciliation")
    results["reconcile"] = scenarios.reconcile_time(
        reconcile_entries or entries, runs, on_progress=on_progress
    )
    on_progress("demo")
    results["demo"] = scenarios.demo_wall_time(runs, on_progress=on_progress)
    results["targets"] = targets(results)
    return results


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue beside the figure measured for it (None when not measured)."""
    rows: list[dict[str, Any]] = []

    def add(target: str, figure: float | None, met: bool | None, note: str = "") -> None:
        rows.append({"target": target, "measured": figure, "met": met, "note": note})

    sq = results.get("backfill_sqlite", {})
    rate = sq.get("pipeline_entries_per_s", {}).get("median")
    add("backfill on SQLite >= 20,000 entries/s", rate, None if rate is None else rate >= 20_000)
    ratio = sq.get("pipeline_over_dlt")
    add("backfill >= 3x dlt's plain load (SQLite)", ratio, None if ratio is None else ratio >= 3)
    share = sq.get("pipeline_over_ceiling")
    add("backfill >= 0.25 of the parse-and-insert ceiling", share, None if share is None else share >= 0.25)
    one = results.get("backfill_postgres_1", {}).get("pipeline_entries_per_s", {}).get("median")
    two = results.get("backfill_postgres_2", {}).get("pipeline_entries_per_s", {}).get("median")
    scale = round(two / one, 2) if one and two else None
    add(
        "2 workers on PostgreSQL >= 1.6x 1 worker",
        scale,
        None if scale is None else scale >= 1.6,
        "whole pipeline; the load step is one process",
    )
    work_one = results.get("backfill_postgres_1", {}).get("work_s", {}).get("median")
    work_two = results.get("backfill_postgres_2", {}).get("work_s", {}).get("median")
    if work_one and work_two:
        ratio = round(work_one / work_two, 2)
        add("2 workers on PostgreSQL >= 1.6x 1 worker", ratio, ratio >= 1.6, "worker step only")
    p99 = results.get("latency", {}).get("p99_s")
    add("latency p99 < 1 s at 200 approvals/s", p99, None if p99 is None else p99 < 1)
    rss = max((r.get("peak_rss_mb", 0) for r in results.values() if isinstance(r, dict)), default=None)
    entries = sq.get("entries")
    add("peak RSS < 1 GB (10,000,000-entry backfill)", rss, None, f"measured at {entries} entries")
    rec = results.get("reconcile", {})
    secs = rec.get("seconds", {}).get("median")
    at = rec.get("entries")
    add(
        "reconciliation of 1,000,000 entries < 5 s",
        secs,
        (secs < 5) if secs is not None and at and at >= 1_000_000 else None,
        f"measured at {at} entries" if at else "",
    )
    analytics = rec.get("analytics_s", {}).get("median")
    if analytics is not None:
        add(
            "analytics (nine products) reported at 1,000,000 entries",
            analytics,
            None,
            f"measured at {at} entries",
        )
    return rows


def table(results: dict[str, Any]) -> str:
    """The Markdown tables for docs/performance.md."""
    out = [
        f"Taken {results.get('taken_at')} on {results.get('machine', {}).get('platform')}, "
        f"{results.get('machine', {}).get('cpus')} CPUs, Python {results.get('machine', {}).get('python')}, "
        f"SQLite {results.get('machine', {}).get('sqlite')}.",
        "",
        "| benchmark | figure | median | min | max | peak RSS MB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        if not isinstance(r, dict) or "benchmark" not in r:
            continue
        for key, value in r.items():
            if isinstance(value, dict) and {"median", "min", "max"} <= value.keys():
                out.append(
                    f"| {name} | {key} | {value['median']:,} | {value['min']:,} | {value['max']:,} "
                    f"| {r.get('peak_rss_mb', '')} |"
                )
        for key in ("pipeline_over_dlt", "pipeline_over_ceiling", "p50_s", "p99_s", "approvals_per_s_fed"):
            if key in r:
                out.append(f"| {name} | {key} | {r[key]} | | | {r.get('peak_rss_mb', '')} |")
    out += ["", "| target | measured | met | note |", "| --- | --- | --- | --- |"]
    for t in results.get("targets", []):
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        out.append(f"| {t['target']} | {t['measured']} | {met} | {t['note']} |")
    return "\n".join(out)
