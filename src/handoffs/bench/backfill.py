"""The backfill benchmark: historical entries through the whole pipeline, beside the peer and the limit.

Pipeline: canonical JSON Lines -> validate and store (``ingest_lines``) -> ``workers`` worker
processes (``handoffs worker --until-idle``) price, recognise revenue, invoice, journal and
deliver to an in-process ERP, until the queue is empty. Every run starts on a fresh database
and ends with the billing check: a run that lost or doubled an entry is an error, not a figure.

Beside it, on the same file and database kind: the plain parse-and-insert ceiling and, when
dlt is installed, dlt's plain load (see :mod:`handoffs.bench.peers`).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handoffs.bench import peers
from handoffs.bench.measure import count_entries, peak_rss_mb, run_workers, spread, write_backfill

__all__ = ["BackfillResult", "fresh_database", "run_backfill", "run_pipeline"]


@dataclass(slots=True)
class BackfillResult:
    database: str
    workers: int
    entries: int
    runs: list[dict[str, float]] = field(default_factory=list)
    ceiling_s: list[float] = field(default_factory=list)
    dlt_s: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        rates = [r["entries_per_s"] for r in self.runs]
        report: dict[str, Any] = {
            "benchmark": "backfill",
            "database": self.database,
            "workers": self.workers,
            "entries": self.entries,
            "runs": len(self.runs),
            "pipeline_entries_per_s": spread(rates),
            "load_s": spread([r["load_s"] for r in self.runs]),
            "work_s": spread([r["work_s"] for r in self.runs]),
        }
        if self.ceiling_s:
            ceiling = spread([self.entries / s for s in self.ceiling_s])
            report["ceiling_entries_per_s"] = ceiling
            report["pipeline_over_ceiling"] = round(
                report["pipeline_entries_per_s"]["median"] / ceiling["median"], 3
            )
        if self.dlt_s:
            dlt = spread([self.entries / s for s in self.dlt_s])
            report["dlt_entries_per_s"] = dlt
            report["pipeline_over_dlt"] = round(report["pipeline_entries_per_s"]["median"] / dlt["median"], 2)
        report["peak_rss_mb"] = peak_rss_mb()
        return report


@contextmanager
def fresh_database(kind: str, workdir: Path, postgres_url: str | None) -> Iterator[str]:
    """A new empty database for one run: a SQLite file, or a new database on the server."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / f'pipeline-{uuid.uuid4().hex[:8]}.db'}"
        return
    if postgres_url is None:
        raise ValueError("PostgreSQL runs need a server URL")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"handoffs_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(postgres_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_pipeline(path: Path, database_url: str, workers: int, entries: int) -> dict[str, float]:
    """Load ``path`` into a set-up database, drain it with ``workers`` processes, check the billing."""
    from handoffs.bootstrap import build
    from handoffs.flows.ingest import ingest_lines
    from handoffs.reconcile.billing import check_billing
    from handoffs.settings import Settings

    app = build(Settings(database_url=database_url, erp="memory", batch_size=1000))
    app.upgrade()
    started = time.perf_counter()
    with path.open(encoding="utf-8") as fh:
        ingest_lines(fh, app.uow, app.ports, source="bench", batch_size=5000)
    loaded = time.perf_counter()
    env = {
        **os.environ,
        "HANDOFFS_DATABASE_URL": database_url,
        "HANDOFFS_ERP": "memory",
        "HANDOFFS_BATCH_SIZE": "1000",
    }
    run_workers(workers, env)
    done = time.perf_counter()
    with app.uow() as uow:
        check = check_billing(uow.connection)
    app.close()
    if check.billed_entries != entries or check.double_billed_entries:
        raise RuntimeError(
            f"the run billed {check.billed_entries} of {entries} entries "
            f"({check.double_billed_entries} twice): not a benchmark figure"
        )
    return {"load_s": loaded - started, "work_s": done - loaded, "entries_per_s": entries / (done - started)}


def run_backfill(
    entries: int,
    runs: int = 3,
    *,
    database: str = "sqlite",
    workers: int = 1,
    postgres_url: str | None = None,
    peers_too: bool = True,
    on_run: Callable[[int, dict[str, float]], None] | None = None,
) -> BackfillResult:
    """Run the pipeline ``runs`` times (and the ceiling and dlt as often), each on a fresh database."""
    with tempfile.TemporaryDirectory(prefix="handoffs-bench-") as tmp:
        workdir = Path(tmp)
        path = write_backfill(workdir / "backfill.jsonl", entries)
        n = count_entries(path)
        result = BackfillResult(database, workers, n)
        for i in range(runs):
            with fresh_database(database, workdir, postgres_url) as url:
                result.runs.append(run_pipeline(path, url, workers, n))
            if on_run:
                on_run(i, result.runs[-1])
            if not peers_too:
                continue
            if database == "sqlite":
                result.ceiling_s.append(peers.ceiling_sqlite(path, workdir / f"ceiling-{i}.db"))
            else:
                with fresh_database(database, workdir, postgres_url) as url:
                    result.ceiling_s.append(peers.ceiling_postgres(path, url))
            if peers.dlt_available():
                if database == "sqlite":
                    result.dlt_s.append(peers.dlt_load(path, "sqlite", str(workdir / f"dlt-{i}.db")))
                else:
                    with fresh_database(database, workdir, postgres_url) as url:
                        result.dlt_s.append(peers.dlt_load(path, "postgres", url))
        return result
