"""Two workers posting the same invoices at once, for the ERP fault rows of every ERP.

:class:`Watched` wraps the ERP port, counts calls per invoice and makes the first call of a
few invoices wait for the other worker's call of the same invoice, so the concurrent case
happens on every run whatever the machine's scheduler does. :func:`two_workers` runs two
workers that keep looking for work until every delivery is confirmed; with a lease shorter
than a posting, each is handed postings the other is still sending.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from handoffs.bootstrap import App

__all__ = ["PerWorker", "Watched", "all_confirmed", "two_workers"]


class Watched:
    """The ERP port, counting calls per invoice and calls made while another was running.

    ``meet``: for that many invoices, the first call waits (up to ``patience`` seconds) for a
    second call of the same invoice to start.
    """

    def __init__(self, erp: Any, meet: int = 3, patience: float = 30.0) -> None:
        self.erp, self.system = erp, erp.system
        self.calls: Counter[str] = Counter()
        self.running: Counter[str] = Counter()
        self.overlaps = 0
        self.meet, self.patience = meet, patience
        self._lock = threading.Condition()

    @property
    def twice(self) -> int:
        """Invoices that both workers posted."""
        return sum(1 for n in self.calls.values() if n > 1)

    def post_invoice(self, invoice: Any, key: str) -> Any:
        with self._lock:
            self.calls[invoice.id] += 1
            self.running[invoice.id] += 1
            self.overlaps += self.running[invoice.id] > 1
            if self.running[invoice.id] > 1:
                self._lock.notify_all()
            elif self.meet > 0 and self.calls[invoice.id] == 1:
                self.meet -= 1
                self._lock.wait_for(lambda: self.running[invoice.id] > 1, timeout=self.patience)
        try:
            return self.erp.post_invoice(invoice, key)
        finally:
            with self._lock:
                self.running[invoice.id] -= 1


class PerWorker:
    """Each worker thread posts through its own connector, as two processes would."""

    def __init__(self, system: str, erps: dict[str, Any]) -> None:
        self.erps, self.system = erps, system

    def post_invoice(self, invoice: Any, key: str) -> Any:
        return self.erps[threading.current_thread().name].post_invoice(invoice, key)


def all_confirmed(hub: App) -> bool:
    with hub.uow() as uow:
        counts = uow.deliveries.count_by_status()
    return bool(counts) and set(counts) == {"confirmed"}


def two_workers(hub: App, owners: tuple[str, str] = ("w1", "w2"), seconds: float = 240) -> None:
    """Run two workers (threads named after their owners) until every delivery is confirmed."""
    done = threading.Event()

    def work(owner: str) -> None:
        worker = hub.worker(owner=owner)
        deadline = time.monotonic() + seconds
        while not done.is_set() and time.monotonic() < deadline:
            if worker.run(until_idle=True).as_dict().get("processed", 1) == 0:
                time.sleep(0.02)
            if all_confirmed(hub):
                done.set()

    threads = [threading.Thread(target=work, args=(owner,), name=owner) for owner in owners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
