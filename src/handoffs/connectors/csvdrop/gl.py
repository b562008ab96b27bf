"""The legacy ERP's general-ledger interface file, as an ErpPort: one batch per invoice.

An invoice becomes a balanced journal (debit receivables, credit revenue and tax) written
to ``inbox/<batch>.csv``; the ERP answers ``outbox/ACK_<batch>.csv`` or ``REJ_<batch>.csv``.
The batch name is the idempotency key: a batch re-sent after a lost acknowledgement is
refused as "already posted", which confirms the first posting without a duplicate. What the
ledger holds is read back from its detail extract, ``extract/gl_detail.csv``.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from handoffs.connectors.base import Reachability
from handoffs.domain.billing import Invoice, JournalEntry
from handoffs.domain.coexistence import PostedDocument
from handoffs.domain.ports import ExternalRef
from handoffs.engine.errors import TerminalError, TransientError

__all__ = ["GL_HEADER", "LegacyGlConfig", "LegacyGlErp", "entry_lines", "journal_lines"]

DEFAULT_ACCOUNTS = {"receivable": "1100", "revenue": "4000", "tax": "2100"}
GL_HEADER = ("company", "period", "journal", "account", "debit", "credit", "currency", "memo", "reference")


@dataclass(frozen=True, slots=True)
class LegacyGlConfig:
    inbox: Path
    outbox: Path
    accounts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))
    wait_seconds: float = 5.0  # how long one post waits for an acknowledgement
    poll: float = 0.05
    extract: Path | None = None  # the ledger's detail extract; by default <folder>/extract/gl_detail.csv

    @property
    def extract_file(self) -> Path:
        return self.extract or self.inbox.parent / "extract" / "gl_detail.csv"

    @classmethod
    def from_entry(cls, entry: dict[str, Any], base_dir: Path = Path(".")) -> LegacyGlConfig:
        folder = base_dir / str(entry["folder"])
        options = entry.get("options") or {}
        return cls(
            folder / "inbox",
            folder / "outbox",
            {**DEFAULT_ACCOUNTS, **(options.get("accounts") or {})},
            float(options.get("wait_seconds", 5.0)),
        )


def journal_lines(invoice: Invoice, accounts: dict[str, str]) -> list[tuple[str, ...]]:
    """Debit receivables with the total; credit revenue with the net and tax with the tax."""
    base = (invoice.legal_entity_id, invoice.period, "SALES")
    ref = invoice.id
    rows: list[tuple[str, ...]] = [
        (*base, accounts["receivable"], str(invoice.total.amount), "", invoice.currency, "invoice", ref)
    ]
    rows.append(
        (*base, accounts["revenue"], "", str(invoice.subtotal.amount), invoice.currency, "revenue", ref)
    )
    if invoice.tax.amount:
        rows.append((*base, accounts["tax"], "", str(invoice.tax.amount), invoice.currency, "tax", ref))
    return rows


def entry_lines(entry: JournalEntry) -> list[tuple[str, ...]]:
    """A journal entry's lines as GL interface rows (reference: the entry's id)."""
    base = (entry.legal_entity_id, entry.period, "GENERAL")
    return [
        (
            *base,
            line.account,
            str(line.debit.amount) if line.debit.amount else "",
            str(line.credit.amount) if line.credit.amount else "",
            entry.currency,
            line.memo or entry.memo,
            entry.id,
        )
        for line in entry.lines
    ]


class LegacyGlErp:
    def __init__(
        self, system: str, config: LegacyGlConfig, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.system, self.config, self.sleep = system, config, sleep

    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef:
        return self._post(invoice.id, journal_lines(invoice, self.config.accounts))

    def post_journal(self, entry: JournalEntry, idempotency_key: str) -> ExternalRef:
        """A hub journal entry (revenue, an expense claim) as one batch named by its id."""
        return self._post(entry.id, entry_lines(entry))

    def _post(self, document_id: str, rows: list[tuple[str, ...]]) -> ExternalRef:
        batch = re.sub(r"[^A-Za-z0-9_.-]", "_", document_id)
        answer = self._answer(batch)
        if answer is None:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(GL_HEADER)
            writer.writerows(rows)
            tmp = self.config.inbox / f".{batch}.tmp"
            tmp.write_text(out.getvalue(), encoding="utf-8")
            tmp.replace(self.config.inbox / f"{batch}.csv")  # atomic: the ERP never reads half a file
            answer = self._wait(batch)
        kind, text = answer
        if kind == "ACK" or "already posted" in text:
            return ExternalRef(self.system, batch)
        raise TerminalError(f"{self.system} rejected batch {batch}: {text.strip()}", category="rejected")

    def read_journals(self, journal_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """The ledger's lines for each journal entry (by reference): currency and accounts."""
        return {
            ref: PostedDocument(
                ref, self.system, lines[0]["batch"], lines[0]["currency"], accounts=_net(lines)
            )
            for ref, lines in self._extract_rows(journal_ids).items()
        }

    def read_invoices(self, invoice_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """The ledger's lines for each invoice (by reference), from its detail extract."""
        return {ref: self._posted(ref, lines) for ref, lines in self._extract_rows(invoice_ids).items()}

    def _extract_rows(self, ids: Iterable[str]) -> dict[str, list[dict[str, str]]]:
        wanted = set(ids)
        rows: dict[str, list[dict[str, str]]] = {}
        if self.config.extract_file.exists():
            with self.config.extract_file.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    if row["reference"] in wanted:
                        rows.setdefault(row["reference"], []).append(row)
        return rows

    def _posted(self, ref: str, lines: list[dict[str, str]]) -> PostedDocument:
        accounts = _net(lines)
        chart = self.config.accounts
        return PostedDocument(
            ref,
            self.system,
            lines[0]["batch"],
            currency=lines[0]["currency"],
            net=-accounts.get(chart["revenue"], Decimal(0)),
            tax=-accounts.get(chart["tax"], Decimal(0)),
            total=accounts.get(chart["receivable"], Decimal(0)),
            accounts=accounts,
        )

    def _answer(self, batch: str) -> tuple[str, str] | None:
        for kind in ("ACK", "REJ"):
            path = self.config.outbox / f"{kind}_{batch}.csv"
            if path.exists():
                return kind, path.read_text(encoding="utf-8")
        return None

    def _wait(self, batch: str) -> tuple[str, str]:
        deadline = time.monotonic() + self.config.wait_seconds
        while time.monotonic() < deadline:
            answer = self._answer(batch)
            if answer is not None:
                return answer
            self.sleep(self.config.poll)
        if (self.config.inbox / f"{batch}.csv").exists():
            raise TransientError(f"{self.system} has not picked up batch {batch} yet", category="pending")
        # taken but never acknowledged: send it again next time; a posted batch is refused as such
        raise TransientError(
            f"{self.system} took batch {batch} but sent no acknowledgement", category="lost_ack"
        )

    def check(self) -> Reachability:
        ok = self.config.inbox.is_dir() and self.config.outbox.is_dir()
        return Reachability(self.system, ok, f"inbox {self.config.inbox}" if ok else "folders missing")


def _net(lines: list[dict[str, str]]) -> dict[str, Decimal]:
    """Debits minus credits per account."""
    accounts: dict[str, Decimal] = {}
    for line in lines:
        amount = Decimal(line["debit"] or 0) - Decimal(line["credit"] or 0)
        accounts[line["account"]] = accounts.get(line["account"], Decimal(0)) + amount
    return accounts
