"""What every benchmark reports: median, min and max over runs, and peak memory."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["count_entries", "peak_rss_mb", "run_workers", "spread", "worker_command", "write_backfill"]


def spread(values: Sequence[float], digits: int = 1) -> dict[str, float]:
    """Median, min and max of ``values``."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def peak_rss_mb() -> float:
    """The larger of this process's peak RSS and its largest child's (workers run as children)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def write_backfill(path: Path, entries: int, **knobs: object) -> Path:
    """Write the backfill firm of ``entries`` approved entries to ``path`` as JSON Lines."""
    from handoffs.bench.datagen import backfill_lines

    knobs.setdefault("projects", max(1, entries // 500))
    with path.open("w", encoding="utf-8") as fh:
        for line in backfill_lines(entries=entries, **knobs):  # type: ignore[arg-type]
            fh.write(line + "\n")
    return path


def count_entries(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for line in fh if b'"type":"time_entry"' in line)


def worker_command(*, until_idle: bool = True) -> list[str]:
    command = [sys.executable, "-m", "handoffs.cli.main", "worker", "--json"]
    return [*command, "--until-idle"] if until_idle else command


def run_workers(n: int, env: Mapping[str, str]) -> None:
    """Start ``n`` worker processes on one database and wait until all have drained the queue."""
    procs = [
        subprocess.Popen(worker_command(), env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
        for _ in range(n)
    ]
    failed = []
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            failed.append(err.decode(errors="replace")[-2000:])
    if failed:
        raise RuntimeError(f"a worker failed: {failed[0]}")
