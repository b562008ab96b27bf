"""What an Odoo database must hold for the hub, looked up by id and proved by ``systems check``.

The hub writes references by id: the legal entity's company (``options.companies``), the
invoice's currency (``res.currency`` by ISO code, active), a sales tax per hub tax code
(``options.taxes``, else the tax code's identity link), the service product
(``options.product_id``) and the contracts' analytic plan (``options.analytic_plan_id``;
reading it needs the user to have accounting rights).
"""

from __future__ import annotations

from typing import Any

from handoffs.connectors.mapping import Lookups
from handoffs.connectors.odoo.config import OdooConfig
from handoffs.connectors.odoo.moves import MoveRefs
from handoffs.connectors.odoo.rpc import OdooRpc, OdooRpcError
from handoffs.domain.billing import Invoice
from handoffs.engine.errors import TerminalError

__all__ = ["OdooSetup"]


class OdooSetup:
    def __init__(self, system: str, rpc: OdooRpc, config: OdooConfig, lookups: Lookups) -> None:
        self.system, self.rpc, self.config, self.lookups = system, rpc, config, lookups
        self._currencies: dict[str, int] = {}

    def currency(self, code: str) -> int:
        if code not in self._currencies:
            ids = self.rpc.call(
                "res.currency", "search", [["name", "=", code], ["active", "=", True]], limit=1
            )
            if not ids:
                raise TerminalError(
                    f"{self.system}: currency {code} is not active in Odoo (Accounting > Currencies)",
                    category="setup",
                )
            self._currencies[code] = int(ids[0])
        return self._currencies[code]

    def tax(self, tax_code_id: str) -> int:
        configured = self.config.taxes.get(tax_code_id)
        linked = self.lookups.external(self.system, "tax_code", tax_code_id) if configured is None else None
        if configured is None and linked is None:
            raise TerminalError(
                f"{self.system}: hub tax code {tax_code_id} has no account.tax in options.taxes",
                category="mapping",
            )
        return configured if configured is not None else int(str(linked))

    def company(self, legal_entity_id: str) -> int:
        """``options.companies``, else the legal entity's identity link, else company 1."""
        if legal_entity_id in self.config.companies:
            return self.config.companies[legal_entity_id]
        linked = self.lookups.external(self.system, "legal_entity", legal_entity_id)
        return int(linked) if linked else 1

    def analytic(self, contract_id: str) -> int | None:
        """The contract's analytic account (pushed with the contract), if it is there."""
        ids = self.rpc.call("account.analytic.account", "search", [["code", "=", contract_id]], limit=1)
        return int(ids[0]) if ids else None

    def refs(self, invoice: Invoice, partner: int) -> MoveRefs:
        codes = {line.tax_code_id for line in invoice.lines if line.tax_code_id}
        return MoveRefs(
            partner=partner,
            company=self.company(invoice.legal_entity_id),
            currency=self.currency(invoice.currency),
            product=self.config.product_id,
            taxes={code: self.tax(code) for code in sorted(codes)},
            analytic=self.analytic(invoice.contract_id),
        )

    def check(self) -> str:
        """Every configured reference exists and fits; raises naming what is not set up."""
        c, problems = self.config, []
        problems += self._exists("product.product", [c.product_id], "product_id")
        problems += self._exists("res.company", sorted({1, *c.companies.values()}), "companies")
        for code, tax_id in sorted(c.taxes.items()):
            rows = self._read("account.tax", [tax_id], ["type_tax_use", "company_id"], f"taxes.{code}")
            if isinstance(rows, str):
                problems.append(rows)
            elif rows[0].get("type_tax_use") != "sale":
                problems.append(f"taxes.{code}: account.tax {tax_id} is not a sales tax")
        try:
            self.rpc.call("account.analytic.plan", "read", [c.analytic_plan_id], fields=["name"])
        except OdooRpcError as exc:
            if "AccessError" in exc.name:
                problems.append("analytic plans: the user needs accounting rights (Accounting / Read-only)")
            else:
                problems.append(f"analytic_plan_id {c.analytic_plan_id}: {exc.name}")
        if problems:
            raise TerminalError(f"{self.system}: not set up in Odoo: {'; '.join(problems)}", category="setup")
        return f"product {c.product_id}, {len(c.taxes)} taxes and analytic plan {c.analytic_plan_id} found"

    def _exists(self, model: str, ids: list[int], option: str) -> list[str]:
        rows = self._read(model, ids, ["id"], option)
        return [rows] if isinstance(rows, str) else []

    def _read(self, model: str, ids: list[int], fields: list[str], option: str) -> list[dict[str, Any]] | str:
        try:
            return list(self.rpc.call(model, "read", ids, fields=fields))
        except OdooRpcError as exc:
            return f"{option}: {model} {ids} {exc.name.rsplit('.', 1)[-1]}"
