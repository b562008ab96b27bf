"""Start ``handoffs worker`` processes and SIGKILL them at random points while they work."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from handoffs.store.tables import work_queue

WORKER = [sys.executable, "-m", "handoffs.cli.main", "worker", "--json"]


def worker_env(database_url: str, erp_spec: str, **settings: str) -> dict[str, str]:
    """The environment of a worker that claims small batches on short leases and retries fast."""
    defaults = {
        "HANDOFFS_BATCH_SIZE": "5",
        "HANDOFFS_LEASE_SECONDS": "1",
        "HANDOFFS_BACKOFF_BASE": "0.05",
        "HANDOFFS_MAX_ATTEMPTS": "50",
    }
    return {
        **os.environ,
        "HANDOFFS_DATABASE_URL": database_url,
        "HANDOFFS_ERP": erp_spec,
        **defaults,
        **settings,
    }


class QueueReader:
    """Counts unfinished work with a plain connection of its own.

    The hub's own reads on SQLite queue behind the worker's writes (BEGIN IMMEDIATE); a plain
    reader sees the queue at once, so a kill lands when the test means it to.
    """

    def __init__(self, database_url: str) -> None:
        self._engine = create_engine(database_url, poolclass=NullPool)
        self._ask = (
            select(func.count()).select_from(work_queue).where(work_queue.c.status.in_(("pending", "leased")))
        )

    def left(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(self._ask).scalar_one())

    def close(self) -> None:
        self._engine.dispose()


def kill_repeatedly(database_url: str, env: Mapping[str, str], *, kills: int, seed: int) -> int:
    """Start a worker, SIGKILL it at a random point mid-work, and again, ``kills`` times.

    Returns how many kills landed while the worker was processing (the queue had moved).
    """
    rng = random.Random(seed)
    kills_mid_work = 0
    reader = QueueReader(database_url)
    try:
        outstanding = reader.left()
        for _ in range(kills * 4):
            proc = subprocess.Popen(
                WORKER, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and reader.left() == outstanding:
                time.sleep(0.01)  # wait for start-up: the kill must land while it works
            # Then a random point mid-work: a random moment, but before it has done a tenth of
            # what is left, so that a fast machine still takes its kills before the work runs out.
            kill_at, budget = time.monotonic() + rng.uniform(0, 0.4), max(5, outstanding // 10)
            while time.monotonic() < kill_at and outstanding - reader.left() < budget:
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            before, outstanding = outstanding, reader.left()
            if outstanding != before:  # it was processing when it died
                kills_mid_work += 1
            if outstanding == 0 or kills_mid_work >= kills:
                break
    finally:
        reader.close()
    return kills_mid_work


def finish(env: Mapping[str, str], timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    """Run one worker until no work is left."""
    return subprocess.run([*WORKER, "--until-idle"], env=dict(env), capture_output=True, timeout=timeout)
