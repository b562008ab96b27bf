"""The backfill benchmark: historical entries through the whole pipeline, and the ceiling.

Pipeline: canonical JSON Lines -> validate and store (``ingest_lines``) -> the worker prices,
recognises revenue, invoices, journals and delivers to an in-process ERP, until idle.
Ceiling: the same file parsed with orjson and inserted with ``executemany`` into SQLite,
nothing else; what a plain loader can do on this machine.
"""

from __future__ import annotations

import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from handoffs.bench.datagen import backfill_lines

__all__ = ["BackfillResult", "run_backfill"]


@dataclass(frozen=True, slots=True)
class BackfillResult:
    entries: int
    runs: list[dict[str, float]]
    ceiling_runs: list[float]
    peak_rss_mb: float

    def as_dict(self) -> dict[str, Any]:
        def stats(values: list[float]) -> dict[str, float]:
            return {
                "median": round(statistics.median(values), 1),
                "min": round(min(values), 1),
                "max": round(max(values), 1),
            }

        rates = [r["entries_per_s"] for r in self.runs]
        ceiling = [self.entries / s for s in self.ceiling_runs]
        return {
            "benchmark": "backfill",
            "database": "sqlite",
            "entries": self.entries,
            "runs": len(self.runs),
            "pipeline_entries_per_s": stats(rates),
            "load_s": stats([r["load_s"] for r in self.runs]),
            "work_s": stats([r["work_s"] for r in self.runs]),
            "ceiling_entries_per_s": stats(ceiling),
            "pipeline_over_ceiling": round(statistics.median(rates) / statistics.median(ceiling), 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
        }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pipeline(path: Path, workdir: Path, n: int) -> dict[str, float]:
    from handoffs.bootstrap import build
    from handoffs.flows.ingest import ingest_lines
    from handoffs.settings import Settings

    db = workdir / f"pipeline-{n}.db"
    app = build(Settings(database_url=f"sqlite:///{db}", erp="memory", batch_size=1000))
    app.upgrade()
    started = time.perf_counter()
    with path.open(encoding="utf-8") as fh:
        ingest_lines(fh, app.uow, app.ports, source="bench", batch_size=5000)
    loaded = time.perf_counter()
    app.worker().run(until_idle=True)
    done = time.perf_counter()
    app.close()
    entries = sum(1 for line in path.open() if '"type":"time_entry"' in line)
    return {"load_s": loaded - started, "work_s": done - loaded, "entries_per_s": entries / (done - started)}


def _ceiling(path: Path, workdir: Path, n: int) -> float:
    db = sqlite3.connect(workdir / f"ceiling-{n}.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE entries (id TEXT PRIMARY KEY, type TEXT, doc TEXT)")
    started = time.perf_counter()
    batch: list[tuple[str, str, str]] = []
    with path.open("rb") as fh:
        for raw in fh:
            record = orjson.loads(raw)
            batch.append((record["id"], record["type"], raw.decode()))
            if len(batch) >= 5000:
                db.executemany("INSERT INTO entries VALUES (?, ?, ?)", batch)
                batch = []
    db.executemany("INSERT INTO entries VALUES (?, ?, ?)", batch)
    db.commit()
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def run_backfill(
    entries: int,
    runs: int = 3,
    on_run: Callable[[int, dict[str, float]], None] | None = None,
) -> BackfillResult:
    """Run the pipeline ``runs`` times and the ceiling as often, on fresh SQLite files."""
    with tempfile.TemporaryDirectory(prefix="handoffs-bench-") as tmp:
        workdir = Path(tmp)
        path = workdir / "backfill.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for line in backfill_lines(entries=entries, projects=max(1, entries // 500)):
                fh.write(line + "\n")
        results, ceiling = [], []
        for n in range(runs):
            result = _pipeline(path, workdir, n)
            results.append(result)
            if on_run:
                on_run(n, result)
            ceiling.append(_ceiling(path, workdir, n))
        return BackfillResult(entries, results, ceiling, _peak_rss_mb())
