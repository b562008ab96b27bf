"""Odoo as an :class:`~handoffs.domain.ports.ErpPort`: customer invoices and credit notes
(``account.move``) and contracts (``account.analytic.account``, coded with the contract id).

Odoo has no external-id upsert over RPC, so idempotency is by business key: the move's
``ref`` is the hub's invoice id, a partner's ``ref`` the customer id, an analytic
account's ``code`` the contract id.

* A record found by its key is used (a draft invoice found is amended with the current
  lines: never a second record); else it is created once (``retry=False``).
* A create whose answer never came is *uncertain* (:mod:`handoffs.engine.uncertain`): it
  is looked for by its key, with backoff, until it shows up or the settle period is over,
  and only then sent again; the state is kept in ``pending_writes`` for every worker.
* Two workers that both created the record keep the posted one, else the lowest id, and
  delete their other drafts; workers of one process take a lock per key.
* The move is in the invoice's currency (``currency_id`` by ISO code), of the legal
  entity's company, with taxes as ``tax_ids`` from ``options.taxes``; a credit note is
  ``out_refund`` with positive lines (:mod:`.moves`).
* After posting, Odoo's figures (currency, untaxed, tax, total, line count) are read back
  and compared: a difference is a terminal ``read_back`` error holding both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from handoffs.connectors.base import Reachability, reach
from handoffs.connectors.mapping import Lookups, MappingFailure, MappingSpec, apply_mapping
from handoffs.connectors.odoo.config import OdooConfig
from handoffs.connectors.odoo.moves import expected_figures, held_figures, move_values
from handoffs.connectors.odoo.rpc import OdooBusy, OdooRpc, OdooRpcError
from handoffs.connectors.odoo.setup import OdooSetup
from handoffs.connectors.readback import check_read_back
from handoffs.domain.billing import Invoice
from handoffs.domain.coexistence import PostedDocument
from handoffs.domain.ports import ExternalRef, Guard
from handoffs.engine.errors import TerminalError, Uncertain, Waiting
from handoffs.engine.uncertain import PendingWrites, SettlePolicy, UncertainWrites

__all__ = ["OdooConfig", "OdooErp"]

POST_TRIES = 4
_STRIPES = [threading.Lock() for _ in range(64)]
_READ = ["ref", "state", "move_type", "currency_id", "amount_untaxed", "amount_tax", "amount_total"]


class OdooErp:
    def __init__(
        self,
        system: str,
        config: OdooConfig,
        mappings: dict[str, MappingSpec],
        lookups: Lookups,
        *,
        guard: Guard | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pending: PendingWrites | None = None,
        **http: Any,
    ) -> None:
        self.system, self.config, self.mappings, self.lookups = system, config, mappings, lookups
        self.sleep = sleep
        self.rpc = OdooRpc(system, config, guard=guard, **http)
        self.setup = OdooSetup(system, self.rpc, config, lookups)
        self.writes = UncertainWrites(
            system, pending, SettlePolicy(settle_seconds=config.settle_seconds), sleep=sleep
        )
        self.locks: list[threading.Lock] = _STRIPES
        self._partners: dict[str, int] = {}

    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef:
        """Create (once) or amend the draft, post it, read it back and compare."""
        with self.locks[hash((self.config.base_url, invoice.id)) % len(self.locks)]:
            refs = self.setup.refs(invoice, self.ensure_partner(invoice.customer_id))
            values = move_values(invoice, refs)
            domain = [["ref", "=", invoice.id], ["move_type", "in", ["out_invoice", "out_refund"]]]
            move, created = self._ensure(
                "account.move", domain, values, f"{self.system}:invoice:{invoice.id}"
            )
            if not created:
                self._amend(move, values, invoice)
            self._post_move(move)
            held = self._read_move(move)
            check_read_back(self.system, "invoice", invoice.id, expected_figures(invoice), held_figures(held))
        return ExternalRef(self.system, str(move))

    def push_contract(self, metadata: dict[str, Any], idempotency_key: str) -> ExternalRef:
        """The contract as an ``account.analytic.account`` coded with its id (found, else created once)."""
        values = self._map("contract", metadata)
        values["partner_id"] = self.ensure_partner(str(metadata["customer_id"]))
        values["plan_id"] = self.config.analytic_plan_id
        domain = [["code", "=", str(metadata["id"])]]
        account, _ = self._ensure(
            "account.analytic.account", domain, values, f"{self.system}:contract:{metadata['id']}"
        )
        return ExternalRef(self.system, str(account))

    def read_invoices(self, invoice_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """Posted customer invoices and refunds whose ``ref`` is one of ``invoice_ids``."""
        ids = sorted(set(invoice_ids))
        if not ids:
            return {}
        domain = [
            ["ref", "in", ids],
            ["move_type", "in", ["out_invoice", "out_refund"]],
            ["state", "=", "posted"],
        ]
        found: dict[str, PostedDocument] = {}
        for move in self.rpc.call("account.move", "search_read", domain, fields=_READ):
            figures = held_figures(move)
            found[str(move["ref"])] = PostedDocument(
                str(move["ref"]),
                self.system,
                str(move["id"]),
                currency=figures.currency,
                net=figures.untaxed,
                tax=figures.tax,
                total=figures.total,
            )
        return found

    def ensure_partner(self, customer_id: str) -> int:
        if customer_id not in self._partners:
            domain = [["ref", "=", customer_id]]
            values = self._map("partner", {"id": customer_id})
            key = f"{self.system}:partner:{customer_id}"
            self._partners[customer_id] = self._ensure("res.partner", domain, values, key)[0]
        return self._partners[customer_id]

    # -- one record, once -----------------------------------------------------------------------
    def _find(self, model: str, domain: list[Any]) -> int | None:
        """The record holding the key: for a move, a posted one, else the lowest id."""
        if model == "account.move":
            domain = [*domain, ["state", "!=", "cancel"]]
        ids = [int(i) for i in self.rpc.call(model, "search", domain, order="id asc")]
        if not ids or model != "account.move":
            return min(ids) if ids else None
        rows = self.rpc.call(model, "read", ids, fields=["state"])
        posted = sorted(int(r["id"]) for r in rows if r["state"] == "posted")
        return posted[0] if posted else min(ids)

    def _ensure(self, model: str, domain: list[Any], values: dict[str, Any], key: str) -> tuple[int, bool]:
        """The record's id, found by its key or created once; and whether this call created it.

        A create whose answer never came is looked for (and settled) before any other send.
        """
        created = False

        def find() -> str | None:
            found = self._find(model, domain)
            return None if found is None else str(found)

        def send() -> str:
            nonlocal created
            found = find()
            if found is not None:
                return found
            created = True
            return str(self._create_new(model, domain, values))

        return int(self.writes.write(key, find=find, send=send)), created

    def _create_new(self, model: str, domain: list[Any], values: dict[str, Any]) -> int:
        """Create once; when another worker created it too, keep one and delete ours."""
        own = int(self.rpc.call(model, "create", values, retry=False, write=True))
        keep = self._find(model, domain) or own
        if keep != own:
            self.rpc.call(model, "unlink", [own])
        return keep

    def _amend(self, move: int, values: dict[str, Any], invoice: Invoice) -> None:
        """An invoice found again carries the hub's current lines: a draft is rewritten, a posted
        move whose figures differ is reset to draft and rewritten (never a second record)."""
        held = self._read_move(move)
        if held_figures(held) == expected_figures(invoice):
            return  # it already holds the hub's figures (a retry, or our own create found)
        if held["state"] == "posted":
            self.rpc.call("account.move", "button_draft", [move])
        lines = [[5, 0, 0], *values["invoice_line_ids"]]
        update = {k: v for k, v in values.items() if k not in ("invoice_line_ids", "move_type")}
        self.rpc.call("account.move", "write", [move], {**update, "invoice_line_ids": lines})

    def _post_move(self, move: int) -> None:
        """``action_post`` once per try; a sequence clash is tried again, a lost answer settled."""
        wait = 0.1
        for _ in range(POST_TRIES):
            if self._read_move(move)["state"] != "draft":
                return
            try:
                self.rpc.call("account.move", "action_post", [move], retry=False, write=True)
                return
            except (OdooBusy, Uncertain):
                self.sleep(wait)
                wait *= 2
            except OdooRpcError:
                if self._read_move(move)["state"] == "posted":  # another worker posted it first
                    return
                raise
        raise Waiting(
            f"{self.system}: invoice {move} is not posted yet; looked again later", category="pending"
        )

    def _read_move(self, move: int) -> dict[str, Any]:
        rows = self.rpc.call("account.move", "read", [move], fields=[*_READ, "invoice_line_ids"])
        return dict(rows[0])

    def _map(self, name: str, record: dict[str, Any]) -> dict[str, Any]:
        try:
            return apply_mapping(self.mappings[name], record, self.system, self.lookups)
        except MappingFailure as exc:
            raise TerminalError(str(exc), category="mapping") from None

    def check(self) -> Reachability:
        """Log in (in the configured mode), then prove the setup the hub writes by id."""

        def probe() -> str:
            uid = self.rpc.login()
            return f"logged in as uid {uid} ({self.config.mode} mode); {self.setup.check()}"

        return reach(self.system, probe)

    def close(self) -> None:
        self.rpc.close()
