"""The other benchmarks: latency under a steady rate, the month-end peak, reconciliation, the demo.

Each returns a JSON-ready dict with its figures and peak RSS. None of them asserts a time.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from handoffs.bench.backfill import fresh_database, run_pipeline
from handoffs.bench.datagen import backfill_lines
from handoffs.bench.measure import count_entries, peak_rss_mb, spread, worker_command, write_backfill

__all__ = ["demo_wall_time", "latency", "month_end", "reconcile_time"]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def latency(rate: int = 200, seconds: int = 60, *, on_progress: Progress = _quiet) -> dict[str, Any]:
    """p50/p99 from an approval arriving to its invoice line, under ``rate`` approvals per second.

    A feeder stores ``rate / 10`` approved entries (of an ended period) every 100 ms for
    ``seconds``; one worker process runs beside it; a watcher polls every 20 ms for entries
    that reached ``billed`` (on an invoice). Latency is first seen billed minus arrival, so it
    includes up to 20 ms of polling.
    """
    from handoffs.bootstrap import build
    from handoffs.flows.ingest import ingest_lines
    from handoffs.settings import Settings
    from handoffs.store.tables import time_entries as te

    total = rate * seconds
    with tempfile.TemporaryDirectory(prefix="handoffs-latency-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'hub.db'}"
        app = build(Settings(database_url=url, erp="memory", batch_size=500))
        app.upgrade()
        lines = list(backfill_lines(entries=total, projects=max(1, rate // 10)))
        reference = [line for line in lines if '"type":"time_entry"' not in line]
        entries = [line for line in lines if '"type":"time_entry"' in line]
        ingest_lines(reference, app.uow, app.ports, source="bench")
        env = {
            **os.environ,
            "HANDOFFS_DATABASE_URL": url,
            "HANDOFFS_ERP": "memory",
            "HANDOFFS_BATCH_SIZE": "500",
        }
        worker = subprocess.Popen(  # noqa: S603
            worker_command(until_idle=False), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        arrived: dict[str, float] = {}
        billed: dict[str, float] = {}
        feeding = threading.Event()
        feeding.set()

        def watch() -> None:
            while feeding.is_set() or len(billed) < len(arrived):
                waiting = [i for i in list(arrived) if i not in billed]
                now = time.perf_counter()
                with app.engine.connect() as conn:
                    for chunk in range(0, len(waiting), 500):
                        ids = waiting[chunk : chunk + 500]
                        rows = conn.execute(
                            select(te.c.id).where(te.c.id.in_(ids), te.c.billing_state == "billed")
                        )
                        for (entry_id,) in rows:
                            billed[entry_id] = now
                if not feeding.is_set() and now - last_arrival[0] > 120:
                    return  # two minutes after the last arrival: report what never came
                time.sleep(0.02)

        last_arrival = [time.perf_counter()]
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        step = max(1, rate // 10)
        started = time.perf_counter()
        for n, i in enumerate(range(0, len(entries), step)):
            due = started + n * 0.1
            time.sleep(max(0.0, due - time.perf_counter()))
            chunk = entries[i : i + step]
            ingest_lines(chunk, app.uow, app.ports, source="bench", batch_size=step)
            stamp = time.perf_counter()
            for line in chunk:
                arrived[line.split('"id":"', 1)[1].split('"', 1)[0]] = stamp
            last_arrival[0] = stamp
            if n % 50 == 0:
                on_progress(f"{len(arrived)} arrived, {len(billed)} billed")
        feed_s = time.perf_counter() - started
        feeding.clear()
        watcher.join()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        app.close()
    waits = sorted(billed[i] - arrived[i] for i in billed)
    if not waits:
        raise RuntimeError("no entry reached an invoice: not a benchmark figure")
    return {
        "benchmark": "latency",
        "database": "sqlite",
        "approvals_per_s_target": rate,
        "approvals_per_s_fed": round(len(arrived) / feed_s, 1),
        "seconds": seconds,
        "entries": len(arrived),
        "reached_invoice": len(billed),
        "p50_s": round(statistics.median(waits), 3),
        "p99_s": round(waits[min(len(waits) - 1, int(len(waits) * 0.99))], 3),
        "max_s": round(waits[-1], 3),
        "peak_rss_mb": peak_rss_mb(),
    }


def month_end(
    consultants: int = 1000,
    runs: int = 3,
    *,
    database: str = "sqlite",
    postgres_url: str | None = None,
    on_progress: Progress = _quiet,
) -> dict[str, Any]:
    """40 % of a month for ``consultants`` people lands in 3 days: how long the backlog takes to drain.

    A month is about 21 working days of 1.5 entries per consultant; 40 % of it arrives as one
    backlog of approved entries (5 consultants per project) for the pipeline to validate, price,
    invoice, journal and deliver.
    """
    entries = int(consultants * 21 * 1.5 * 0.4)
    drains: list[float] = []
    with tempfile.TemporaryDirectory(prefix="handoffs-monthend-") as tmp:
        path = write_backfill(Path(tmp) / "peak.jsonl", entries, projects=max(1, consultants // 5))
        n = count_entries(path)
        for i in range(runs):
            with fresh_database(database, Path(tmp), postgres_url) as url:
                result = run_pipeline(path, url, 1, n)
            drains.append(result["load_s"] + result["work_s"])
            on_progress(f"run {i + 1}: drained {n} entries in {drains[-1]:.1f} s")
    return {
        "benchmark": "month_end",
        "database": database,
        "consultants": consultants,
        "entries": n,
        "runs": runs,
        "drain_s": spread(drains),
        "peak_rss_mb": peak_rss_mb(),
    }


def reconcile_time(
    entries: int = 100_000,
    runs: int = 3,
    *,
    store: Path | None = None,
    period: str = "2026-01",
    on_progress: Progress = _quiet,
) -> dict[str, Any]:
    """Seconds for the billing check, the period's controls and the analytics over billed entries.

    The store is filled through the whole pipeline with ``entries`` entries, or is an existing
    SQLite store (``store``, e.g. one a 10,000,000-entry backfill left). ``seconds`` is the
    reconciliation (billing check plus controls); the nine analytics products are timed apart.
    """
    with tempfile.TemporaryDirectory(prefix="handoffs-reconcile-") as tmp:
        if store is None:
            path = write_backfill(Path(tmp) / "backfill.jsonl", entries)
            store = Path(tmp) / "hub.db"
            on_progress(f"filling a store with {count_entries(path)} entries through the pipeline")
            run_pipeline(path, f"sqlite:///{store}", 1, count_entries(path))
        return _time_store(f"sqlite:///{store}", runs, period, on_progress)


def _time_store(url: str, runs: int, period: str, on_progress: Progress) -> dict[str, Any]:
    from sqlalchemy import func

    from handoffs.analytics import compute
    from handoffs.reconcile.billing import check_billing
    from handoffs.reconcile.controls import reconcile
    from handoffs.store.db import make_engine
    from handoffs.store.migrate import upgrade
    from handoffs.store.tables import time_entries

    engine = make_engine(url)
    upgrade(engine)  # a store from an older release gets the indexes the controls read through
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(time_entries)).scalar_one()
    timings: dict[str, list[float]] = {"check": [], "controls": [], "analytics": []}
    for i in range(runs):
        with engine.connect() as conn:
            started = time.perf_counter()
            check = check_billing(conn)
            checked = time.perf_counter()
            report = reconcile(conn, period)
            controlled = time.perf_counter()
            products = compute(conn)
            analysed = time.perf_counter()
        timings["check"].append(checked - started)
        timings["controls"].append(controlled - checked)
        timings["analytics"].append(analysed - controlled)
        on_progress(
            f"run {i + 1}: reconcile {controlled - started:.2f} s "
            f"(check {checked - started:.2f}, controls {controlled - checked:.2f}), "
            f"analytics {analysed - controlled:.2f} s"
        )
    engine.dispose()
    return {
        "benchmark": "reconcile",
        "database": "sqlite",
        "entries": n,
        "period_entries": report.checked["time_entries"],
        "runs": runs,
        "seconds": spread([a + b for a, b in zip(timings["check"], timings["controls"], strict=True)], 2),
        "check_s": spread(timings["check"], 2),
        "controls_s": spread(timings["controls"], 2),
        "analytics_s": spread(timings["analytics"], 2),
        "analytics_products": len(products),
        "billed_entries": check.billed_entries,
        "unexplained_breaks": len(report.unexplained),
        "peak_rss_mb": peak_rss_mb(),
    }


def demo_wall_time(runs: int = 3, *, on_progress: Progress = _quiet) -> dict[str, Any]:
    """Wall time of ``handoffs demo`` at its default size, each run in a fresh folder."""
    timings: list[float] = []
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="handoffs-demo-") as tmp:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "handoffs.cli.main", "demo"],
                cwd=tmp,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            timings.append(time.perf_counter() - started)
        on_progress(f"run {i + 1}: {timings[-1]:.1f} s")
    return {"benchmark": "demo", "runs": runs, "seconds": spread(timings), "peak_rss_mb": peak_rss_mb()}
