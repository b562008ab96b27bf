"""Tryton as an :class:`~handoffs.domain.ports.ErpPort`: customer invoices and credit notes
(``account.invoice`` of type ``out``), posted with the ``post`` button and read back.

Tryton has no external-id upsert, so an invoice's key is its ``reference`` (the hub's
invoice id). Before a create the connector looks for it; a create is sent once
(``retry=False``), and one whose answer never came is *uncertain*
(:mod:`handoffs.engine.uncertain`, the rule every ERP connector shares, kept in
``pending_writes``): the connector looks for the reference with backoff (up to
``settle_poll`` seconds apart) for ``settle_seconds`` before it may be sent again.
Workers in one process take a lock per reference; workers in
different processes that both created a draft keep the posted one, else the lowest id, and
delete their other drafts before posting. After posting, Tryton's own figures (currency,
untaxed, tax, total, line count) are read back; a difference is a terminal error holding
both sets of figures, which the engine turns into an exception.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from handoffs.connectors.base import Reachability, reach
from handoffs.connectors.mapping import Lookups
from handoffs.connectors.readback import Figures, check_read_back, invoice_figures
from handoffs.connectors.tryton.config import TrytonConfig
from handoffs.connectors.tryton.mapping import invoice_values
from handoffs.connectors.tryton.rpc import TrytonRpc, TrytonRpcError
from handoffs.connectors.tryton.setup import TrytonSetup
from handoffs.domain.billing import Invoice
from handoffs.domain.coexistence import PostedDocument
from handoffs.domain.ports import ExternalRef, Guard
from handoffs.engine.errors import TransientError, Uncertain
from handoffs.engine.uncertain import PendingWrites, SettlePolicy, UncertainWrites

__all__ = ["TrytonConfig", "TrytonErp"]

_STRIPES = [threading.Lock() for _ in range(64)]
READ = ["reference", "state", "currency", "untaxed_amount", "tax_amount", "total_amount", "lines"]


class TrytonErp:
    def __init__(
        self,
        system: str,
        config: TrytonConfig,
        mappings: Any = None,
        lookups: Lookups | None = None,
        *,
        guard: Guard | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pending: PendingWrites | None = None,
        **http: Any,
    ) -> None:
        self.system, self.config, self.lookups, self.sleep = system, config, lookups, sleep
        self.rpc = TrytonRpc(system, config, guard=guard, **http)
        self.setup = TrytonSetup(self.rpc)
        poll = config.settle_poll
        settle = SettlePolicy(
            settle_seconds=config.settle_seconds,
            first_wait=min(0.2, poll),
            max_wait=poll,
            checks=max(2, math.ceil(config.settle_seconds / poll) + 1),
        )
        self.writes = UncertainWrites(system, pending, settle, sleep=sleep)
        # Workers in one process share these; a test may give each connector its own.
        self.locks: list[threading.Lock] = _STRIPES

    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef:
        with self.locks[hash((self.config.base_url, invoice.id)) % len(self.locks)]:
            found = self._create(invoice)
            row = self._post(found)
            self._compare(invoice, row)
        return ExternalRef(self.system, str(found))

    def _post(self, invoice: int) -> dict[str, Any]:
        """The ``post`` button on a draft; another worker posting it first is no failure."""
        row = self._read([invoice])[0]
        if row["state"] in ("draft", "validated"):
            try:
                self.rpc.call("account.invoice", "post", [invoice])
            except TrytonRpcError:
                row = self._read([invoice])[0]
                if row["state"] not in ("posted", "paid"):
                    raise
            row = self._read([invoice])[0]
        return row

    def read_invoices(self, invoice_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """Posted customer invoices and credit notes whose reference is one of ``invoice_ids``."""
        ids = sorted(set(invoice_ids))
        if not ids:
            return {}
        domain = [["reference", "in", ids], ["type", "=", "out"], ["state", "in", ["posted", "paid"]]]
        found: dict[str, PostedDocument] = {}
        for row in self._read(self.rpc.call("account.invoice", "search", domain, 0, None, [["id", "ASC"]])):
            figures = self._figures(row)
            found.setdefault(
                str(row["reference"]),
                PostedDocument(
                    str(row["reference"]),
                    self.system,
                    str(row["id"]),
                    currency=figures.currency,
                    net=figures.untaxed,
                    tax=figures.tax,
                    total=figures.total,
                ),
            )
        return found

    # -- one invoice ----------------------------------------------------------------------------
    def _find(self, reference: str, own: int | None = None) -> int | None:
        """The invoice holding ``reference``: a posted one, else the lowest id.

        ``own`` is a draft this call just created: when another holds the reference too
        (a worker elsewhere created it at the same moment), ours is deleted.
        """
        domain = [["reference", "=", reference], ["type", "=", "out"], ["state", "!=", "cancelled"]]
        ids = self.rpc.call("account.invoice", "search", domain, 0, None, [["id", "ASC"]])
        if not ids:
            return None
        rows = self.rpc.call("account.invoice", "read", ids, ["state"])
        posted = sorted(int(r["id"]) for r in rows if r["state"] in ("posted", "paid"))
        keep = posted[0] if posted else min(int(i) for i in ids)
        if own is not None and own != keep:
            self.rpc.call("account.invoice", "delete", [own])
        return keep

    def _create(self, invoice: Invoice) -> int:
        """The invoice holding the reference, else created once. A create whose answer never
        came is looked for now, with backoff, until it appears or the settle period is over
        (then sent again); if it is still settling the delivery is ``Waiting``."""
        key = f"{self.system}:invoice:{invoice.id}"

        def find() -> str | None:
            try:
                found = self._find(invoice.id)
            except TransientError:
                found = None
            return None if found is None else str(found)

        def send() -> str:
            found = self._find(invoice.id)
            if found is not None:
                return str(found)
            refs = self.setup.refs(invoice, self._customer_name(invoice.customer_id))
            values = invoice_values(invoice, refs)
            created = int(self.rpc.call("account.invoice", "create", [values], retry=False, write=True)[0])
            return str(self._find(invoice.id, own=created) or created)

        try:
            return int(self.writes.write(key, find=find, send=send))
        except Uncertain:
            return int(self.writes.write(key, find=find, send=send))

    def _customer_name(self, customer_id: str) -> str:
        if self.lookups is not None:
            name = self.lookups.object_field("customer", customer_id, "name")
            if isinstance(name, str) and name:
                return name
        return customer_id

    def _read(self, ids: list[int]) -> list[dict[str, Any]]:
        rows = self.rpc.call("account.invoice", "read", ids, READ)
        return sorted(rows, key=lambda r: int(r["id"]))

    def _figures(self, row: dict[str, Any]) -> Figures:
        return Figures(
            self.setup.currency_code(int(row["currency"])),
            row["untaxed_amount"],
            row["tax_amount"],
            row["total_amount"],
            len(row["lines"]),
        )

    def _compare(self, invoice: Invoice, row: dict[str, Any]) -> None:
        if row["state"] not in ("posted", "paid"):
            raise TransientError(f"{self.system}: invoice {invoice.id} is {row['state']}, not posted yet")
        check_read_back(self.system, "invoice", invoice.id, invoice_figures(invoice), self._figures(row))

    def check(self) -> Reachability:
        """Log in, then prove the setup the hub needs (company, accounts, journal, taxes...)."""

        def probe() -> str:
            uid = self.rpc.login()
            return f"logged in as user {uid}; {self.setup.check()}"

        return reach(self.system, probe)

    def close(self) -> None:
        self.rpc.close()
