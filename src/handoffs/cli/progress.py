"""Progress for long work: a live bar on a terminal, a log line every few seconds otherwise.

Under cron, systemd or CI, standard error is not a terminal and a live bar shows nothing
useful; like dlt, the command then writes one plain line per task every
``HANDOFFS_PROGRESS_SECONDS`` (10 by default) and a last one when the task ends.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import Progress, ProgressColumn, TaskID

__all__ = ["LineProgress", "progress"]


class LineProgress:
    """The part of rich's :class:`Progress` the commands use, written as periodic lines."""

    def __init__(self, console: Console, every: float) -> None:
        self.console, self.every = console, every
        self._tasks: dict[int, dict[str, Any]] = {}

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in self._tasks.values():
            self._write(task, "done" if kind is None else "stopped")

    def add_task(self, description: str, total: float | None = None, **_: Any) -> TaskID:
        now = time.monotonic()
        tid = len(self._tasks)
        self._tasks[tid] = {
            "description": description,
            "total": total,
            "completed": 0,
            "start": now,
            "last": now,
        }
        return TaskID(tid)

    def update(
        self,
        task_id: TaskID,
        *,
        description: str | None = None,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        **_: Any,
    ) -> None:
        task = self._tasks[int(task_id)]
        if description is not None:
            task["description"] = description
        if total is not None:
            task["total"] = total
        if completed is not None:
            task["completed"] = completed
        if advance:
            task["completed"] += advance
        now = time.monotonic()
        if now - task["last"] >= self.every:
            task["last"] = now
            self._write(task, None)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def _write(self, task: dict[str, Any], end: str | None) -> None:
        done, total = task["completed"], task["total"]
        count = f"{int(done):,} of {int(total):,} ({done / total:.0%})" if total else f"{int(done):,}"
        elapsed = time.monotonic() - task["start"]
        tail = f", {end}" if end else ""
        line = f"{task['description']}: {count}, {elapsed:.0f} s{tail}"
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


def progress(
    *columns: str | ProgressColumn, console: Console, disable: bool = False
) -> Progress | LineProgress:
    """A live, transient bar on a terminal; periodic lines when not; nothing when ``disable``."""
    if disable or console.is_terminal:
        return Progress(*columns, console=console, disable=disable, transient=True)
    from handoffs.settings import Settings

    return LineProgress(console, Settings.from_env().progress_seconds)
