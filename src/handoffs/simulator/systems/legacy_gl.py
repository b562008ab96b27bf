"""A legacy ERP that only takes general-ledger interface files.

Drop ``<batch>.csv`` into ``inbox/``; :meth:`LegacyGl.process` (or the polling thread) posts
it and writes ``outbox/ACK_<batch>.csv`` or ``outbox/REJ_<batch>.csv``, then moves the input
to ``archive/``. A batch is rejected whole: bad header, unknown account, closed period, a
line that is not exactly one of debit or credit, an unbalanced company/currency, or a batch
name already posted. Faults: ``outage`` leaves the file for the next pass; ``lost_ack``
posts the batch but writes no acknowledgement. Every posted line is also appended to the
ledger's detail extract ``extract/gl_detail.csv`` (the GL header plus ``batch``), which is
what an integration reads back to see what the ledger holds.
"""

from __future__ import annotations

import csv
import io
import threading
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from handoffs.simulator.faults import FaultInjector, FaultSettings, fault_settings

__all__ = ["GL_HEADER", "LegacyGl"]

GL_HEADER = ("company", "period", "journal", "account", "debit", "credit", "currency", "memo", "reference")


class LegacyGl:
    """The file-drop ERP; ``posted`` holds every posted line, ``outcomes`` every batch's fate."""

    name = "legacy_gl"

    def __init__(
        self,
        seed_data: dict[str, list[dict[str, Any]]],
        root: Path,
        faults: str | FaultSettings = "none",
        seed: int = 0,
        **overrides: Any,
    ) -> None:
        self.inbox, self.outbox, self.archive = root / "inbox", root / "outbox", root / "archive"
        self.extract = root / "extract" / "gl_detail.csv"
        for folder in (self.inbox, self.outbox, self.archive, self.extract.parent):
            folder.mkdir(parents=True, exist_ok=True)
        self.accounts = {(a["company"], a["account"]) for a in seed_data.get("accounts", [])}
        self.open_periods = {(p["company"], p["period"]) for p in seed_data.get("open_periods", [])}
        self.faults = FaultInjector(self.name, fault_settings(faults, **overrides), seed)
        self.posted: list[dict[str, str]] = []
        self.outcomes: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def process(self) -> dict[str, str]:
        """Handle every file in the inbox once; returns batch -> "posted" | "rejected" | "deferred"."""
        results: dict[str, str] = {}
        with self._lock:
            for path in sorted(self.inbox.glob("*.csv")):
                self.faults.next_request()
                if self.faults.in_outage(self.faults.requests):
                    self.faults.record("outage", file=path.name)
                    results[path.stem] = "deferred"
                    continue
                results[path.stem] = self._handle(path)
        return results

    def _handle(self, path: Path) -> str:
        batch = path.stem
        errors, rows = self._validate(batch, path.read_text(encoding="utf-8"))
        if errors:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(("batch", "line", "error"))
            writer.writerows((batch, line, message) for line, message in errors)
            outcome = self.outcomes[batch] = "rejected"  # the ledger's state, before its answer
            (self.outbox / f"REJ_{batch}.csv").write_text(out.getvalue(), encoding="utf-8")
        else:
            self.posted.extend({**row, "batch": batch} for row in rows)
            self._extract(batch, rows)
            debits = sum((Decimal(r["debit"] or 0) for r in rows), Decimal(0))
            outcome = self.outcomes[batch] = "posted"  # posted before the ACK says so
            if self.faults.roll("lost_ack", self.faults.settings.lost_ack_rate):
                self.faults.record("lost_ack", file=path.name)
            else:
                (self.outbox / f"ACK_{batch}.csv").write_text(
                    f"batch,status,lines,total_debits\n{batch},POSTED,{len(rows)},{debits}\n",
                    encoding="utf-8",
                )
        path.replace(self.archive / path.name)
        return outcome

    def _extract(self, batch: str, rows: list[dict[str, str]]) -> None:
        new = not self.extract.exists()
        with self.extract.open("a", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            if new:
                writer.writerow((*GL_HEADER, "batch"))
            writer.writerows((*(row[c] for c in GL_HEADER), batch) for row in rows)

    def _validate(self, batch: str, text: str) -> tuple[list[tuple[int, str]], list[dict[str, str]]]:
        reader = csv.DictReader(io.StringIO(text))
        if tuple(reader.fieldnames or ()) != GL_HEADER:
            return [(1, f"header must be {','.join(GL_HEADER)}")], []
        if self.outcomes.get(batch) == "posted":
            return [(0, f"batch {batch} was already posted")], []
        errors: list[tuple[int, str]] = []
        rows = list(reader)
        balance: dict[tuple[str, str], Decimal] = {}
        for n, row in enumerate(rows, start=2):
            if (row["company"], row["account"]) not in self.accounts:
                errors.append((n, f"account {row['account']} is not in {row['company']}'s chart"))
            if (row["company"], row["period"]) not in self.open_periods:
                errors.append((n, f"period {row['period']} is not open for {row['company']}"))
            try:
                debit, credit = Decimal(row["debit"] or 0), Decimal(row["credit"] or 0)
            except InvalidOperation:
                errors.append((n, "debit and credit must be numbers"))
                continue
            if (debit == 0) == (credit == 0) or debit < 0 or credit < 0:
                errors.append((n, "a line has exactly one positive debit or credit"))
            key = (row["company"], row["currency"])
            balance[key] = balance.get(key, Decimal(0)) + debit - credit
        if not rows:
            errors.append((2, "the batch has no lines"))
        errors.extend(
            (0, f"{c}/{ccy} is out of balance by {v}") for (c, ccy), v in sorted(balance.items()) if v
        )
        return errors, rows

    def start_polling(self, interval: float = 0.5) -> None:
        """Process the inbox every ``interval`` seconds in a daemon thread until :meth:`stop`."""

        def loop() -> None:
            while not self._stop.wait(interval):
                self.process()

        self._thread = threading.Thread(target=loop, daemon=True, name="sim:legacy_gl")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def state(self) -> dict[str, Any]:
        return {
            "system": self.name,
            "inbox": str(self.inbox),
            "outbox": str(self.outbox),
            "outcomes": dict(sorted(self.outcomes.items())),
            "posted_lines": len(self.posted),
            "faults": dict(sorted(self.faults.fired.items())),
        }
