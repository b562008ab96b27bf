"""The peer and the limit, on the same file as the pipeline.

* **ceiling**: parse each line with orjson and insert it, nothing else: ``executemany`` into
  SQLite, ``COPY`` into PostgreSQL. No loader can beat this by much on the machine.
* **dlt**: the same time entries loaded by dlt as a plain load with a primary key, into SQLite
  (dlt's SQLAlchemy destination) or PostgreSQL. dlt is optional (``pip install
  'handoffs[bench]'``); without it the peer figures are reported as missing, never invented.

Each returns the seconds it took; rates are time entries divided by seconds.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

__all__ = ["ceiling_postgres", "ceiling_sqlite", "dlt_available", "dlt_load"]

_BATCH = 5000


def _entries(path: Path) -> Iterator[tuple[bytes, dict[str, Any]]]:
    with path.open("rb") as fh:
        for raw in fh:
            record = orjson.loads(raw)
            if record.get("type") == "time_entry":
                yield raw, record


def ceiling_sqlite(path: Path, db_path: Path) -> float:
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE entries (id TEXT PRIMARY KEY, work_date TEXT, hours TEXT, doc TEXT)")
    started = time.perf_counter()
    batch: list[tuple[str, str, str, str]] = []
    for raw, r in _entries(path):
        batch.append((r["id"], r["work_date"], r["hours"], raw.decode()))
        if len(batch) >= _BATCH:
            db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?)", batch)
            batch = []
    db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?)", batch)
    db.commit()
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def ceiling_postgres(path: Path, url: str) -> float:
    import psycopg

    table = f"ceiling_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE TABLE {table} (id text PRIMARY KEY, work_date date, hours numeric, doc text)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY {table} (id, work_date, hours, doc) FROM STDIN") as copy:
            for raw, r in _entries(path):
                copy.write_row((r["id"], r["work_date"], r["hours"], raw.decode()))
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute(f"DROP TABLE {table}")
        conn.commit()
    return elapsed


def dlt_available() -> bool:
    try:
        import dlt  # noqa: F401
    except ImportError:
        return False
    return True


def dlt_load(path: Path, destination: str, target: str) -> float:
    """Load the file's time entries with dlt; ``destination`` is "sqlite" or "postgres".

    ``target`` is the SQLite file or the PostgreSQL URL. dlt's pipeline state lives in a
    temporary folder so that each run starts cold, as a first load would.
    """
    import dlt

    @dlt.resource(
        name="time_entries",
        primary_key="id",
        write_disposition="append",
        columns={c: {"data_type": "text"} for c in ("notes", "role", "task", "assignment_id")},
    )
    def entries() -> Iterator[dict[str, Any]]:
        for _, record in _entries(path):
            yield record

    dest: Any
    if destination == "sqlite":
        dest = dlt.destinations.sqlalchemy(credentials=f"sqlite:///{target}")
    elif destination == "postgres":
        from sqlalchemy.engine import make_url

        url = make_url(target)
        if url.password is None:  # dlt insists on one; a server with trust auth ignores it
            url = url.set(password="unused")  # noqa: S106
        dest = dlt.destinations.postgres(credentials=url.render_as_string(hide_password=False))
    else:
        raise ValueError(f"unknown dlt destination {destination!r}: use sqlite or postgres")
    name = f"handoffs_bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="handoffs-dlt-") as state:
        pipeline = dlt.pipeline(pipeline_name=name, destination=dest, dataset_name=name, pipelines_dir=state)
        started = time.perf_counter()
        pipeline.run(entries())
        return time.perf_counter() - started
