"""Writes whose answer never came: find the record by its key before ever writing again.

A write that timed out, lost its connection or got a 5xx after its body was sent may have
happened, may happen later (a slow server finishes it after the client gave up), or may
not have happened at all. Sending it again can create a second record. So every ERP
connector that creates records sends its writes through :class:`UncertainWrites`::

    send ──answer──► clear ──► record id
      └─ Uncertain ──► remember "uncertain since T" ──► raise (the engine retries later)

    (the write is remembered as uncertain from just before it is sent, so a worker killed
    mid-send leaves it uncertain too)

    next try of an uncertain write:
      find(key), with backoff ──found──► clear ──► record id      (nothing sent again)
          ├─ not found, settle period not over ──► Waiting (look again when it is over)
          └─ not found, settle period over ──► send again (as above)

    an asynchronous write remembers its job; the next try resumes polling that job.

What is remembered lives in a :class:`PendingWrites` store (a database table in the hub,
``pending_writes``), so a worker that dies, or another worker, carries on where it stopped.
``find`` is the target's own lookup by the hub's key (NetSuite ``GET eid:…``, Odoo
``search`` on ``ref``, Tryton ``search`` on the reference); ``send`` should itself use the
target's idempotency features (upserts by external id, idempotency keys).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from handoffs.engine.errors import TerminalError, TransientError, Uncertain, Waiting

__all__ = ["MemoryPendingWrites", "PendingWrite", "PendingWrites", "SettlePolicy", "UncertainWrites"]


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """A write not known to be done: ``uncertain`` (no answer) or ``job`` (accepted, running)."""

    key: str
    system: str
    state: str
    since: datetime
    job: str | None = None


class PendingWrites(Protocol):
    def get(self, key: str) -> PendingWrite | None: ...
    def put(self, pending: PendingWrite) -> None: ...
    def clear(self, key: str) -> None: ...


class MemoryPendingWrites:
    """Pending writes held in this process only (tests, and connectors built without a hub)."""

    def __init__(self) -> None:
        self._rows: dict[str, PendingWrite] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> PendingWrite | None:
        with self._lock:
            return self._rows.get(key)

    def put(self, pending: PendingWrite) -> None:
        with self._lock:
            self._rows[pending.key] = pending

    def clear(self, key: str) -> None:
        with self._lock:
            self._rows.pop(key, None)


@dataclass(frozen=True, slots=True)
class SettlePolicy:
    """How long an uncertain write is looked for before it may be sent again.

    Args:
        settle_seconds: from the unanswered write, how long the target may take to show it.
        first_wait, max_wait: backoff between lookups within one try.
        checks: lookups per try; then the engine retries the delivery later.
    """

    settle_seconds: float = 120.0
    first_wait: float = 0.2
    max_wait: float = 2.0
    checks: int = 4


def _utcnow() -> datetime:
    return datetime.now(UTC)


class UncertainWrites:
    """The rule above for one system's connector."""

    def __init__(
        self,
        system: str,
        pending: PendingWrites | None = None,
        policy: SettlePolicy | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.system = system
        self.pending: PendingWrites = pending if pending is not None else MemoryPendingWrites()
        self.policy = policy or SettlePolicy()
        self.clock, self.sleep = clock, sleep
        self.found_after_uncertain = 0  # writes an answer never came for, found without a resend

    def write(
        self,
        key: str,
        *,
        find: Callable[[], str | None],
        send: Callable[[], str],
        resume: Callable[[str], str] | None = None,
    ) -> str:
        """The record's id: found if an earlier try may have written it, else sent."""
        pending = self.pending.get(key)
        if pending is not None and pending.state == "job" and pending.job and resume is not None:
            job = pending.job
            return self._finish(key, lambda: resume(job))
        if pending is not None and pending.state == "uncertain":
            found = self._settle(pending, find)
            if found is not None:
                self.pending.clear(key)
                self.found_after_uncertain += 1
                return found
        # Remembered before it is sent: a worker killed while the target is still making the
        # record leaves this row, and whoever takes the delivery over looks for the record
        # until the settle period after this send is over instead of sending a second one.
        self.pending.put(PendingWrite(key, self.system, "uncertain", self.clock()))
        return self._finish(key, send)

    def remember_job(self, key: str, job: str) -> None:
        """An asynchronous write was accepted as ``job``: a later try polls it, never resends."""
        self.pending.put(PendingWrite(key, self.system, "job", self.clock(), job))

    def _finish(self, key: str, fn: Callable[[], str]) -> str:
        try:
            result = fn()
        except Uncertain:
            self.pending.put(PendingWrite(key, self.system, "uncertain", self.clock()))
            raise
        except Waiting:
            raise  # accepted and still running (a job): what was remembered stands
        except (TerminalError, TransientError):
            # Refused for good, or known not to have been written (a 429, a refused connection,
            # an open breaker: a connector raises Uncertain whenever the body may have gone).
            self.pending.clear(key)
            raise
        self.pending.clear(key)
        return result

    def _settle(self, pending: PendingWrite, find: Callable[[], str | None]) -> str | None:
        """The record if it shows up; None once the settle period is over without it."""
        wait, left = self.policy.first_wait, 0.0
        for n in range(self.policy.checks):
            found = find()
            if found is not None:
                return found
            left = self.policy.settle_seconds - (self.clock() - pending.since).total_seconds()
            if left <= 0:
                self.pending.put(replace(pending, since=self.clock()))  # resent below; a new clock
                return None
            if n < self.policy.checks - 1:
                self.sleep(min(wait, left))
                wait = min(wait * 2, self.policy.max_wait)
        # Look once more when the settle period is over (and send again only if still absent):
        # an uncertain write costs the delivery three attempts, whatever the settle period.
        raise Waiting(
            f"{self.system}: the write of {pending.key} got no answer and is not there yet; "
            f"looking again in {left:.0f} s, then sending it again if it is still absent",
            retry_after=left,
            category="uncertain",
        )
