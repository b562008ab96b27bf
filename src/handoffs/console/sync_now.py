"""The connectors page's "sync now": one incremental pull of a system, in a background thread.

A pull is what ``handoffs sync`` and the scheduled worker run (:class:`handoffs.sync.pull.
PullRunner`: from the stored cursor minus the overlap, every resource the connector lists,
cursor saved only when all is stored), so pulling now and pulling on schedule cannot
disagree; a second pull of the same system while one runs is refused, not queued. The
console keeps the last runs it started (in this server process) to show them; the pulls'
effects (cursors, records, exceptions) are in the database like any other pull's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SyncRun", "Syncs"]

_log = logging.getLogger("handoffs.console")


@dataclass(slots=True)
class SyncRun:
    """One pull started from the console."""

    system: str
    by: str
    started: float
    finished: float | None = None
    fetched: int = 0
    mapped: int = 0
    failed: int = 0
    resources: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.finished is None


class Syncs:
    """Pulls started from the console, at most one per system at a time."""

    def __init__(self, keep: int = 50) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, SyncRun] = {}
        self.recent: deque[SyncRun] = deque(maxlen=keep)

    def start(self, hub: Any, system: str, by: str) -> str | None:
        """Start pulling ``system``; returns why not (unknown system, already running), or None."""
        connector = hub.sources.get(system)
        if connector is None:
            return (
                f"No pull connector named {system}: start the server with --systems handoffs.yaml "
                "naming it (ERPs receive, they are not pulled)."
            )
        with self._lock:
            if system in self._running:
                return f"A pull of {system} is already running."
            run = SyncRun(system, by, time.time())
            self._running[system] = run
            self.recent.appendleft(run)
        threading.Thread(target=self._pull, args=(hub, connector, run), daemon=True).start()
        return None

    def _pull(self, hub: Any, connector: Any, run: SyncRun) -> None:
        from handoffs.connectors.registry import load_system_mapping
        from handoffs.sync.pull import PullRunner

        try:
            mapping = load_system_mapping(hub.systems.systems[run.system])
            if mapping is None:
                raise ValueError(f"{run.system} has no mapping to read its records with")
            runner = PullRunner(hub.uow, hub.ports, hub.lookups)
            for resource in connector.resources():
                report = runner.pull(connector, resource, mapping.get(resource))
                run.resources.append(resource)
                run.fetched += report.fetched
                run.mapped += report.mapped
                run.failed += report.failed
        except Exception as exc:  # shown on the page and logged; the cursor stays where it was
            run.error = f"{type(exc).__name__}: {exc}"[:500]
            _log.warning("console sync of %s failed: %s", run.system, run.error)
        finally:
            run.finished = time.time()
            with self._lock:
                self._running.pop(run.system, None)
