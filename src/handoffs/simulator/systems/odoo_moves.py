"""Customer invoices and credit notes (``account.move``) as Odoo 17 Community computes them.

Each rule is copied from Odoo 17's source (``odoo/addons/account/models/...``):

* ``account_move.py`` ``_compute_currency_id``: a move without ``currency_id`` is in its
  company's currency (``company_id.currency_id``), whatever the partner's or the lines'.
* ``account_move_line.py`` ``quantity`` (``digits='Product Unit of Measure'``) and
  ``price_unit`` (``digits='Product Price'``): both are rounded to 2 decimals by default
  when stored, with no error; the line's subtotal is computed from the rounded values.
* ``account_move_line.py`` ``tax_ids``: taxes come only from ``account.tax`` records of the
  move's company (``_check_company``: "Incompatible companies on records").
* ``account_move_line.py`` ``product_id``: a missing product raises ``MissingError``.
* ``account_move.py`` ``_post``: an invoice with a negative total is refused ("You cannot
  validate an invoice with a negative total amount..."); a credit note is ``out_refund``
  with positive lines.
* ``account_move.py`` ``_sql_constraints`` ``unique_name``: drafts share the name ``/``
  until posted; two workers posting drafts of one journal at once can both take the next
  sequence name, and one of them fails with "Another entry with the same name already
  exists." (the simulator's ``sequence_clash_rate`` fault).
* ``account_move.py`` ``button_draft``: only posted or cancelled moves go back to draft;
  a posted move is never written.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["MoveRules", "OdooError"]

_CENT = Decimal("0.01")
LINE_FIELDS = {
    "name",
    "product_id",
    "quantity",
    "price_unit",
    "account_id",
    "tax_ids",
    "analytic_distribution",
}
NEGATIVE_TOTAL = (
    "You cannot validate an invoice with a negative total amount. You should create a credit "
    "note instead. Use the action menu to transform it into a credit note or refund."
)
NAME_CLASH = "Another entry with the same name already exists."


class OdooError(Exception):
    """An error raised inside an ORM call; ``name`` is the Python exception class Odoo reports."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _round(value: Any) -> Decimal:
    return _dec(value).quantize(_CENT, rounding=ROUND_HALF_UP)


def missing(model: str, record_id: Any) -> OdooError:
    return OdooError(
        "odoo.exceptions.MissingError",
        f"Record does not exist or has been deleted.\n(Record: {model}({record_id},), User: 2)",
    )


class MoveRules:
    """The account.move rules above, over the store's tables."""

    def __init__(self, tables: dict[str, dict[int, dict[str, Any]]]) -> None:
        self.tables = tables
        self.sequence = 0
        self.clash_next_post = False  # set by the simulator's sequence-clash fault

    def company(self, move: dict[str, Any]) -> int:
        return int(move.get("company_id") or 1)

    def on_create(self, record: dict[str, Any], values: dict[str, Any]) -> None:
        record.update(state="draft", name="/", payment_state="not_paid")
        record.setdefault("company_id", 1)
        if not record.get("currency_id"):  # _compute_currency_id: the company's currency
            company = self.tables["res.company"].get(self.company(record), {})
            record["currency_id"] = company.get("currency_id")
        self.set_lines(record, values.get("invoice_line_ids", []))

    def set_lines(self, move: dict[str, Any], commands: list[Any], keep: bool = False) -> None:
        lines: list[dict[str, Any]] = list(move.get("_lines", [])) if keep else []
        for command in commands:
            if isinstance(command, list | tuple) and command and command[0] == 5:
                lines = []  # (5, 0, 0): unlink every line
                continue
            if not isinstance(command, list | tuple) or len(command) != 3 or command[0] != 0:
                raise OdooError(
                    "builtins.ValueError", "invoice_line_ids takes (0, 0, {values}) commands here"
                )
            lines.append(self._line(move, dict(command[2])))
        untaxed = tax = Decimal(0)
        for line in lines:
            untaxed += line["price_subtotal"]
            tax += line["_tax"]
        move["_lines"] = lines
        move["invoice_line_ids"] = list(range(1, len(lines) + 1))
        move.update(
            amount_untaxed=untaxed, amount_tax=tax, amount_total=untaxed + tax, amount_residual=untaxed + tax
        )

    def _line(self, move: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        unknown = set(values) - LINE_FIELDS
        if unknown:
            raise OdooError(
                "builtins.ValueError", f"Invalid field '{sorted(unknown)[0]}' on model 'account.move.line'"
            )
        product = values.get("product_id")
        if product is not None and int(product) not in self.tables["product.product"]:
            raise missing("product.product", product)
        values["quantity"] = _round(values.get("quantity", 1))  # 'Product Unit of Measure': 2 digits
        values["price_unit"] = _round(values.get("price_unit", 0))  # 'Product Price': 2 digits
        net = (values["quantity"] * values["price_unit"]).quantize(_CENT, rounding=ROUND_HALF_UP)
        tax = Decimal(0)
        for tax_id in tax_ids(values.get("tax_ids")):
            record = self.tables["account.tax"].get(tax_id)
            if record is None:
                raise missing("account.tax", tax_id)
            if int(record.get("company_id") or 1) != self.company(move):
                raise OdooError(
                    "odoo.exceptions.UserError",
                    f"Incompatible companies on records: the invoice belongs to company "
                    f"{self.company(move)} and its tax {record.get('name')!r} to company "
                    f"{record.get('company_id')}.",
                )
            tax += (net * _dec(record.get("amount", 0)) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
        return {**values, "price_subtotal": net, "_tax": tax}

    def post(self, move: dict[str, Any]) -> None:
        if move["state"] != "draft":
            raise OdooError("odoo.exceptions.UserError", "Only draft journal entries can be posted.")
        if not move["invoice_line_ids"]:
            raise OdooError("odoo.exceptions.UserError", "You need to add a line before posting.")
        if move.get("move_type") in ("out_invoice", "out_refund") and move["amount_total"] < 0:
            raise OdooError("odoo.exceptions.UserError", NEGATIVE_TOTAL)
        if self.clash_next_post:  # another worker took this sequence name a moment ago
            self.clash_next_post = False
            raise OdooError("psycopg2.errors.UniqueViolation", NAME_CLASH)
        self.sequence += 1
        prefix = "RINV" if move.get("move_type") == "out_refund" else "INV"
        year = str(move.get("invoice_date") or "2025")[:4]
        move.update(state="posted", name=f"{prefix}/{year}/{self.sequence:05d}")

    def reset_to_draft(self, move: dict[str, Any]) -> None:
        if move["state"] not in ("posted", "cancel"):
            raise OdooError(
                "odoo.exceptions.UserError", "Only posted/cancelled journal entries can be reset to draft."
            )
        move.update(state="draft")

    def rendered(self, move: dict[str, Any]) -> dict[str, Any]:
        """``currency_id`` as a many2one ``[id, "EUR"]``, as Odoo's ``read`` gives it."""
        currency = move.get("currency_id")
        if isinstance(currency, int):
            name = self.tables["res.currency"].get(currency, {}).get("name", "")
            return {**move, "currency_id": [currency, name]}
        return move


def tax_ids(value: Any) -> list[int]:
    """Tax ids from a plain list or ``[(6, 0, ids)]`` / ``[(4, id)]`` commands."""
    if not value:
        return []
    ids: list[int] = []
    for item in value:
        if isinstance(item, int):
            ids.append(item)
        elif isinstance(item, list | tuple) and item and item[0] == 6:
            ids.extend(int(i) for i in item[2])
        elif isinstance(item, list | tuple) and item and item[0] == 4:
            ids.append(int(item[1]))
    return ids
