"""Odoo as an :class:`~handoffs.flows.ports.ErpPort`: customer invoices (``account.move``) and
contracts (``account.analytic.account``, coded with the contract id).

Odoo has no external-id upsert over RPC, so idempotency is by business key: the invoice's
``ref`` is the hub's invoice id. Before each create the connector searches for that ref;
a create is sent once per try (never blindly re-sent), so a lost acknowledgement is found
by the next search and no duplicate invoice is made. A draft found that way is posted.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from handoffs.connectors.base import Reachability
from handoffs.connectors.mapping import Lookups, MappingFailure, MappingSpec, apply_mapping
from handoffs.connectors.odoo.config import OdooConfig
from handoffs.connectors.odoo.rpc import OdooRpc
from handoffs.domain.billing import Invoice
from handoffs.domain.codec import encode
from handoffs.domain.coexistence import PostedDocument
from handoffs.engine.errors import HandoffsFailure, TerminalError, TransientError
from handoffs.flows.ports import ExternalRef, Guard

__all__ = ["OdooConfig", "OdooErp"]

CREATE_TRIES = 4


class OdooErp:
    def __init__(
        self,
        system: str,
        config: OdooConfig,
        mappings: dict[str, MappingSpec],
        lookups: Lookups,
        *,
        guard: Guard | None = None,
        **http: Any,
    ) -> None:
        self.system, self.config, self.mappings, self.lookups = system, config, mappings, lookups
        self.rpc = OdooRpc(system, config, guard=guard, **http)
        self._partners: dict[str, int] = {}

    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef:
        partner = self.ensure_partner(invoice.customer_id)
        values = self._map("invoice", encode(invoice))
        for line in values.get("invoice_line_ids", []):
            tax = line.pop("tax", None)
            line["tax_ids"] = [[6, 0, [int(tax)]]] if tax is not None else [[6, 0, []]]
            line.setdefault("product_id", self.config.product_id)
        values["invoice_line_ids"] = [[0, 0, line] for line in values.get("invoice_line_ids", [])]
        values["partner_id"] = partner
        move = self._create_once(
            "account.move", [["ref", "=", invoice.id], ["move_type", "=", "out_invoice"]], values
        )
        self._post_move(move)
        return ExternalRef(self.system, str(move))

    def push_contract(self, metadata: dict[str, Any], idempotency_key: str) -> ExternalRef:
        """The contract as an ``account.analytic.account`` coded with its id (found, else created once)."""
        values = self._map("contract", metadata)
        values["partner_id"] = self.ensure_partner(str(metadata["customer_id"]))
        values["plan_id"] = self.config.analytic_plan_id
        account = self._create_once("account.analytic.account", [["code", "=", str(metadata["id"])]], values)
        return ExternalRef(self.system, str(account))

    def read_invoices(self, invoice_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """Posted customer invoices and refunds whose ``ref`` is one of ``invoice_ids``."""
        ids = sorted(set(invoice_ids))
        if not ids:
            return {}
        moves = self.rpc.call(
            "account.move",
            "search_read",
            [
                ["ref", "in", ids],
                ["move_type", "in", ["out_invoice", "out_refund"]],
                ["state", "=", "posted"],
            ],
            fields=["ref", "name", "currency_id", "amount_untaxed", "amount_tax", "amount_total"],
        )
        found: dict[str, PostedDocument] = {}
        for move in moves:
            currency = move.get("currency_id")
            found[str(move["ref"])] = PostedDocument(
                str(move["ref"]),
                self.system,
                str(move["id"]),
                currency=str(currency[1] if isinstance(currency, list) else currency) if currency else None,
                net=Decimal(str(move["amount_untaxed"])),
                tax=Decimal(str(move["amount_tax"])),
                total=Decimal(str(move["amount_total"])),
            )
        return found

    def _post_move(self, move: int) -> None:
        """``action_post`` once per try; a lost answer is settled by reading the state again."""
        for _ in range(CREATE_TRIES):
            if self.rpc.call("account.move", "read", [move], fields=["state"])[0]["state"] != "draft":
                return
            try:
                self.rpc.call("account.move", "action_post", [move], retry=False)
                return
            except TransientError as exc:
                self._pause(exc)
        raise TransientError(f"{self.system}: invoice {move} could not be posted yet")

    def ensure_partner(self, customer_id: str) -> int:
        if customer_id not in self._partners:
            values = self._map("partner", {"id": customer_id})
            self._partners[customer_id] = self._create_once(
                "res.partner", [["ref", "=", customer_id]], values
            )
        return self._partners[customer_id]

    def _create_once(self, model: str, domain: list[Any], values: dict[str, Any]) -> int:
        """Find the record by its business key, or create it; a lost create is found next try."""
        last: TransientError | None = None
        for _ in range(CREATE_TRIES):
            found = self.rpc.call(model, "search", domain, limit=1)
            if found:
                return int(found[0])
            try:
                return int(self.rpc.call(model, "create", values, retry=False))
            except TransientError as exc:
                last = exc
                self._pause(exc)
        assert last is not None
        raise last

    def _pause(self, exc: TransientError) -> None:
        """Wait out a Retry-After before the next try; a long one goes back to the engine."""
        http = self.rpc.client
        if exc.retry_after is not None:
            if exc.retry_after > http.policy.max_wait:
                raise exc
            http.sleep(exc.retry_after)

    def _map(self, name: str, record: dict[str, Any]) -> dict[str, Any]:
        try:
            return apply_mapping(self.mappings[name], record, self.system, self.lookups)
        except MappingFailure as exc:
            raise TerminalError(str(exc), category="mapping") from None

    def check(self) -> Reachability:
        try:
            uid = self.rpc.login()
        except HandoffsFailure as exc:
            return Reachability(self.system, False, str(exc))
        return Reachability(self.system, True, f"logged in as uid {uid} ({self.config.mode} mode)")

    def close(self) -> None:
        self.rpc.close()
