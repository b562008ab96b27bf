"""Fake ERPs that honour idempotency keys the way NetSuite honours ``externalId``.

``InMemoryErp`` lives in the calling process (unit tests). ``FileErp`` keeps its state in
its own SQLite file, apart from the hub's database, so it survives a killed worker and
several processes can share it (crash tests, the embedded demo). Both record every call,
so tests can tell how many times a key was sent and how many effects it had.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from handoffs.domain.billing import Invoice, JournalEntry
from handoffs.domain.coexistence import PostedDocument
from handoffs.domain.ports import ExternalRef
from handoffs.engine.errors import TerminalError, TransientError

__all__ = ["ErpFaults", "FileErp", "InMemoryErp"]


@dataclass(frozen=True, slots=True)
class ErpFaults:
    """Deterministic trouble: refuse some calls before the write, lose some acks after it."""

    error_rate: float = 0.0
    lost_ack_rate: float = 0.0
    seed: int = 0


@dataclass
class InMemoryErp:
    system: str = "erp"
    faults: ErpFaults = field(default_factory=ErpFaults)
    calls: list[str] = field(default_factory=list)
    records: dict[str, Invoice] = field(default_factory=dict)
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)  # contract id -> metadata
    journals: dict[str, JournalEntry] = field(default_factory=dict)  # idempotency key -> entry

    def __post_init__(self) -> None:
        self._rng = random.Random(self.faults.seed)

    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef:
        self.calls.append(idempotency_key)
        if self._rng.random() < self.faults.error_rate:
            raise TransientError(f"{self.system} answered 503")
        if invoice.total.is_negative and invoice.kind == "invoice":
            raise TerminalError(f"{self.system} refused invoice {invoice.id}: negative total")
        self.records.setdefault(idempotency_key, invoice)
        if self._rng.random() < self.faults.lost_ack_rate:
            raise TransientError(f"{self.system} timed out after accepting the request")
        return ExternalRef(self.system, _external_id(idempotency_key))

    def push_contract(self, metadata: dict[str, Any], idempotency_key: str) -> ExternalRef:
        """Keep the contract's metadata under its id: a repeat (or an amendment) updates it."""
        self.calls.append(idempotency_key)
        if self._rng.random() < self.faults.error_rate:
            raise TransientError(f"{self.system} answered 503")
        self.contracts[str(metadata["id"])] = dict(metadata)
        return ExternalRef(self.system, _external_id(f"contract:{metadata['id']}"))

    def post_journal(self, entry: JournalEntry, idempotency_key: str) -> ExternalRef:
        """Keep the journal entry under its key: a repeat has no second effect."""
        self.calls.append(idempotency_key)
        if self._rng.random() < self.faults.error_rate:
            raise TransientError(f"{self.system} answered 503")
        self.journals.setdefault(idempotency_key, entry)
        return ExternalRef(self.system, _external_id(idempotency_key))

    def read_journals(self, journal_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """What this ERP accepted for each journal entry: currency and debits minus credits per account."""
        wanted, found = set(journal_ids), {}
        for key, entry in self.journals.items():
            if entry.id in wanted:
                accounts: dict[str, Decimal] = {}
                for line in entry.lines:
                    net = line.debit.amount - line.credit.amount
                    accounts[line.account] = accounts.get(line.account, Decimal(0)) + net
                found[entry.id] = PostedDocument(
                    entry.id, self.system, _external_id(key), currency=entry.currency, accounts=accounts
                )
        return found

    def read_invoices(self, invoice_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """What this ERP accepted for each invoice: currency, amounts and lines."""
        wanted, found = set(invoice_ids), {}
        for key, invoice in self.records.items():
            if invoice.id in wanted:
                found[invoice.id] = PostedDocument(
                    invoice.id,
                    self.system,
                    _external_id(key),
                    currency=invoice.currency,
                    net=invoice.subtotal.amount,
                    tax=invoice.tax.amount,
                    total=invoice.total.amount,
                    lines={line.id: line.amount.amount for line in invoice.lines},
                )
        return found


def _external_id(key: str) -> str:
    import hashlib

    return "ERP-" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


class FileErp:
    """An ERP whose state is a SQLite file shared by every process that opens it."""

    def __init__(self, path: str | Path, system: str = "erp", faults: ErpFaults | None = None) -> None:
        self.system = system
        self.path = Path(path)
        self.faults = faults or ErpFaults()
        self._rng = random.Random(self.faults.seed)
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS calls (n INTEGER PRIMARY KEY, key TEXT NOT NULL)")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS invoices (key TEXT PRIMARY KEY, external_id TEXT NOT NULL,"
                " invoice_id TEXT NOT NULL, currency TEXT NOT NULL, total TEXT NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS contracts (contract_id TEXT PRIMARY KEY,"
                " external_id TEXT NOT NULL, body TEXT NOT NULL)"
            )

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT INTO calls (key) VALUES (?)", (idempotency_key,))
            if self._rng.random() < self.faults.error_rate:
                conn.execute("COMMIT")
                raise TransientError(f"{self.system} answered 503")
            external_id = _external_id(idempotency_key)
            conn.execute(
                "INSERT OR IGNORE INTO invoices VALUES (?, ?, ?, ?, ?)",
                (idempotency_key, external_id, invoice.id, invoice.currency, str(invoice.total.amount)),
            )
            conn.execute("COMMIT")
        except TransientError:
            raise
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if self._rng.random() < self.faults.lost_ack_rate:
            raise TransientError(f"{self.system} timed out after accepting the request")
        return ExternalRef(self.system, external_id)

    def read_invoices(self, invoice_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """What this ERP accepted for each invoice: its currency and total."""
        wanted = set(invoice_ids)
        rows = self._conn().execute("SELECT external_id, invoice_id, currency, total FROM invoices")
        return {
            i: PostedDocument(i, self.system, x, currency=c, total=Decimal(t))
            for x, i, c, t in rows.fetchall()
            if i in wanted
        }

    def push_contract(self, metadata: dict[str, Any], idempotency_key: str) -> ExternalRef:
        """Keep the contract's metadata under its id: a repeat (or an amendment) updates it."""
        conn = self._conn()
        conn.execute("INSERT INTO calls (key) VALUES (?)", (idempotency_key,))
        if self._rng.random() < self.faults.error_rate:
            raise TransientError(f"{self.system} answered 503")
        external_id = _external_id(f"contract:{metadata['id']}")
        conn.execute(
            "INSERT INTO contracts VALUES (?, ?, ?)"
            " ON CONFLICT (contract_id) DO UPDATE SET body = excluded.body",
            (str(metadata["id"]), external_id, orjson.dumps(metadata, default=str).decode()),
        )
        return ExternalRef(self.system, external_id)

    def contracts(self) -> dict[str, dict[str, Any]]:
        rows = self._conn().execute("SELECT contract_id, body FROM contracts").fetchall()
        return {k: orjson.loads(b) for k, b in rows}

    def call_counts(self) -> dict[str, int]:
        rows = self._conn().execute("SELECT key, COUNT(*) FROM calls GROUP BY key").fetchall()
        return {k: int(n) for k, n in rows}

    def invoices(self) -> dict[str, tuple[str, str, str]]:
        rows = self._conn().execute("SELECT key, invoice_id, currency, total FROM invoices").fetchall()
        return {k: (i, c, t) for k, i, c, t in rows}
