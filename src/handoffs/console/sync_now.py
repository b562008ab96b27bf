"""The connectors page's "sync now": one incremental pull of a system, in a background thread.

The pull is a scheduled pull run out of schedule (:meth:`handoffs.sync.scheduler.PullScheduler.
pull_now`): the same pull as ``handoffs sync`` (from the stored cursor minus the system's
overlap; an outage held as an exception, the cursor unmoved), under the same lease as the
workers' scheduled pulls, and recorded in ``sync_runs`` like them. So pulling now and pulling
on schedule cannot run at once or disagree, and the page's history shows both. A second
pull of a system another puller holds is refused, not queued.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

__all__ = ["Syncs"]

_log = logging.getLogger("handoffs.console")


class Syncs:
    """Pulls started from the console, at most one per system at a time in this server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[str] = set()

    def start(self, hub: Any, system: str, by: str) -> str | None:
        """Start pulling ``system``; returns why not (unknown system, already running), or None."""
        if hub.sources.get(system) is None:
            return (
                f"No pull connector named {system}: start the server with --systems handoffs.yaml "
                "naming it (ERPs receive, they are not pulled)."
            )
        with self._lock:
            if system in self._running:
                return f"A pull of {system} is already running."
            self._running.add(system)
        threading.Thread(target=self._pull, args=(hub, system, by), daemon=True).start()
        return None

    def _pull(self, hub: Any, system: str, by: str) -> None:
        from handoffs.sync.scheduler import PullScheduler

        try:
            if PullScheduler(hub, {}, f"console:{by}").pull_now(system) is None:
                _log.warning("console sync of %s skipped: another puller holds it", system)
        except Exception as exc:  # logged; the run row says failed and the cursor stayed
            _log.warning("console sync of %s failed: %s", system, f"{type(exc).__name__}: {exc}"[:500])
        finally:
            with self._lock:
                self._running.discard(system)
