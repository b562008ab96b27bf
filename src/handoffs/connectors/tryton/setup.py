"""The Tryton records the hub's invoices refer to, looked up by name once, and the setup check.

``handoffs systems check`` calls :meth:`TrytonSetup.check`, which proves what
docs/connectors.md asks of a real Tryton: the user works in a company; the revenue account,
the journal and every mapped tax exist exactly once; new parties get a default receivable
account; taxes are rounded per line (as the hub rounds them); currency exchange accounts
are set; and today's period is open.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from handoffs.connectors.tryton.mapping import Refs
from handoffs.connectors.tryton.rpc import TrytonRpc, TrytonRpcError
from handoffs.domain.billing import Invoice
from handoffs.engine.errors import TerminalError

__all__ = ["TrytonSetup"]


class TrytonSetup:
    def __init__(self, rpc: TrytonRpc) -> None:
        self.rpc, self.config = rpc, rpc.config
        self._ids: dict[tuple[str, str], int] = {}
        self._codes: dict[int, str] = {}
        self._lock = threading.Lock()

    def _one(self, model: str, domains: list[list[Any]], what: str) -> int:
        """The single record the first matching domain finds (cached)."""
        key = (model, repr(domains))
        if key not in self._ids:
            for domain in domains:
                ids = self.rpc.call(model, "search", domain, 0, 2, None)
                if len(ids) > 1:
                    raise TerminalError(f"{self.rpc.system}: more than one {what}", category="setup")
                if ids:
                    self._ids[key] = int(ids[0])
                    break
            else:
                raise TerminalError(f"{self.rpc.system}: no {what} in Tryton", category="setup")
        return self._ids[key]

    def company(self) -> int:
        if self.rpc.context.get("company") is None:
            self.rpc.login()
        company = self.rpc.context.get("company")
        if not company:
            raise TerminalError(
                f"{self.rpc.system}: the user {self.config.login} has no company", category="setup"
            )
        return int(company)

    def currency(self, code: str) -> int:
        return self._one("currency.currency", [[["code", "=", code]]], f"currency {code}")

    def currency_code(self, currency_id: int) -> str:
        if currency_id not in self._codes:
            (row,) = self.rpc.call("currency.currency", "read", [currency_id], ["code"])
            self._codes[currency_id] = str(row["code"])
        return self._codes[currency_id]

    def tax(self, name: str) -> int:
        return self._one("account.tax", [[["name", "=", name], ["parent", "=", None]]], f"tax {name!r}")

    def revenue(self) -> int:
        name = self.config.revenue_account
        return self._one(
            "account.account",
            [[["code", "=", name], ["closed", "=", False]], [["name", "=", name], ["closed", "=", False]]],
            f"revenue account {name!r}",
        )

    def journal(self) -> int:
        code = self.config.journal
        return self._one(
            "account.journal", [[["code", "=", code], ["type", "=", "revenue"]]], f"revenue journal {code!r}"
        )

    def party(self, customer_id: str, name: str) -> tuple[int, int, int]:
        """The party coded with the hub's customer id (created once), its address and receivable."""
        domain = [["code", "=", customer_id]]
        with self._lock:
            ids = self.rpc.call("party.party", "search", domain, 0, 1, None)
            if not ids:
                values = {"name": name, "code": customer_id, "addresses": [["create", [{}]]]}
                try:
                    ids = self.rpc.call("party.party", "create", [values], retry=False)
                except TrytonRpcError:  # another worker created it first: the code is unique
                    ids = self.rpc.call("party.party", "search", domain, 0, 1, None)
                    if not ids:
                        raise
        (row,) = self.rpc.call("party.party", "read", [int(ids[0])], ["addresses", "account_receivable"])
        receivable = row["account_receivable"] or self.default_receivable()
        if not row["addresses"]:
            raise TerminalError(f"{self.rpc.system}: party {customer_id} has no address", category="setup")
        return int(row["id"]), int(row["addresses"][0]), int(receivable)

    def default_receivable(self) -> int:
        """The receivable account new parties use (``account.configuration``)."""
        (conf,) = self.rpc.call("account.configuration", "read", [1], ["default_account_receivable"])
        if not conf["default_account_receivable"]:
            raise TerminalError(f"{self.rpc.system}: no default receivable account", category="setup")
        return int(conf["default_account_receivable"])

    def refs(self, invoice: Invoice, customer_name: str) -> Refs:
        party, address, receivable = self.party(invoice.customer_id, customer_name)
        taxes = {}
        for code in {line.tax_code_id for line in invoice.lines if line.tax_code_id}:
            if code not in self.config.taxes:
                raise TerminalError(
                    f"{self.rpc.system}: tax code {code} has no Tryton tax mapped", category="mapping"
                )
            taxes[code] = self.tax(self.config.taxes[code])
        return Refs(
            company=self.company(),
            party=party,
            address=address,
            receivable=receivable,
            revenue=self.revenue(),
            journal=self.journal(),
            currency=self.currency(invoice.currency),
            taxes=taxes,
        )

    def check(self) -> str:
        """Raise a TerminalError naming the first missing piece; else say what was found."""
        company = self.company()
        (row,) = self.rpc.call("company.company", "read", [company], ["currency"])
        currency = self.currency_code(int(row["currency"]))
        self.revenue(), self.journal()
        for name in sorted(set(self.config.taxes.values())):
            self.tax(name)
        self.default_receivable()
        exchange = ["currency_exchange_debit_account", "currency_exchange_credit_account"]
        (conf,) = self.rpc.call("account.configuration", "read", [1], ["tax_rounding", *exchange])
        if not all(conf[name] for name in exchange):
            raise TerminalError(
                f"{self.rpc.system}: no currency exchange accounts (invoices in other currencies "
                "cannot be posted)",
                category="setup",
            )
        if conf["tax_rounding"] != "line":
            raise TerminalError(
                f"{self.rpc.system}: taxes are rounded per {conf['tax_rounding']}, the hub rounds per line",
                category="setup",
            )
        today = dt.date.today()
        domain = [
            ["start_date", "<=", today],
            ["end_date", ">=", today],
            ["state", "=", "open"],
            ["type", "=", "standard"],
        ]
        if not self.rpc.call("account.period", "search", domain, 0, 1, None):
            raise TerminalError(f"{self.rpc.system}: no open period for {today}", category="setup")
        return (
            f"company {company} in {currency}, revenue account {self.config.revenue_account!r}, "
            f"journal {self.config.journal!r}, {len(self.config.taxes)} taxes mapped, tax rounding per line, "
            f"period open for {today}"
        )
