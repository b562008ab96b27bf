"""The in-memory models behind the simulated Odoo: ORM methods, domains, invoice arithmetic."""

from __future__ import annotations

from typing import Any, ClassVar

from handoffs.simulator.systems.odoo_moves import MoveRules, OdooError, missing

__all__ = ["OdooError", "OdooStore"]

FIELDS: dict[str, set[str]] = {
    "res.partner": {"name", "is_company", "email", "customer_rank", "ref", "country_code", "vat"},
    "project.project": {
        "name",
        "partner_id",
        "company_id",
        "active",
        "date_start",
        "date",
        "analytic_account_id",
    },
    "account.analytic.line": {
        "name",
        "project_id",
        "task_id",
        "unit_amount",
        "date",
        "employee_id",
        "amount",
    },
    "account.analytic.account": {
        "name",
        "code",
        "partner_id",
        "plan_id",
        "company_id",
        "currency_id",
        "active",
    },
    "account.move": {
        "move_type",
        "partner_id",
        "invoice_date",
        "ref",
        "invoice_origin",
        "invoice_line_ids",
        "currency_id",
        "company_id",
        "invoice_date_due",
    },
}
_REQUIRED = {
    "res.partner": ("name",),
    "project.project": ("name",),
    "account.analytic.line": ("name", "project_id", "date"),
    "account.move": ("move_type", "partner_id"),
    "account.analytic.account": ("name", "plan_id"),
}


class OdooStore:
    """Records per model with ``search_read``, ``search``, ``search_count``, ``read``, ``create``,
    ``write`` and ``action_post``. Values leave as Decimal and render as JSON numbers."""

    CACHE_CLEARING: ClassVar[frozenset[str]] = frozenset({"product.product", "account.tax", "res.company"})

    def __init__(self, seed: dict[str, list[dict[str, Any]]]) -> None:
        self.tables: dict[str, dict[int, dict[str, Any]]] = {m: {} for m in FIELDS}
        for model, rows in seed.items():
            self.tables[model] = {int(r["id"]): dict(r) for r in rows}
        for model in ("res.company", "res.currency", "product.product", "account.tax"):
            self.tables.setdefault(model, {})
        self.moves = MoveRules(self.tables)
        self.accounting_rights = True  # reading analytic plans needs them (account's ir.model.access)

    def call(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if method.startswith("_") or method == "init":  # odoo/models.py check_method_name
            raise OdooError(
                "odoo.exceptions.AccessError",
                f"Private methods (such as {method}) cannot be called remotely.",
            )
        if model == "account.analytic.plan" and not self.accounting_rights:
            raise OdooError(
                "odoo.exceptions.AccessError",
                "You are not allowed to access 'Analytic Plans' (account.analytic.plan) records.\n\n"
                "This operation is allowed for the following groups:\n\t- Accounting/Read-only",
            )
        if model not in self.tables:
            raise OdooError("builtins.KeyError", f"Object {model} doesn't exist")
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            raise OdooError(
                "builtins.AttributeError", f"The method '{method}' does not exist on the model '{model}'"
            )
        return handler(model, *args, **kwargs)

    def _match(self, record: dict[str, Any], domain: list[Any]) -> bool:
        for term in domain:
            if isinstance(term, str):
                if term == "&":
                    continue
                raise OdooError("builtins.ValueError", f"Domain operator {term!r} is not supported here")
            field, op, value = term
            actual = record.get(field)
            if isinstance(actual, list) and len(actual) == 2 and isinstance(actual[0], int):
                actual = actual[0]  # many2one as [id, name]
            if not _compare(op, actual, value):
                return False
        return True

    def _search(
        self,
        model: str,
        domain: list[Any] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        **_: Any,
    ) -> list[int]:
        ids = sorted(i for i, r in self.tables[model].items() if self._match(r, domain or []))
        if order:
            field, _sep, direction = order.partition(" ")
            ids.sort(
                key=lambda i: (self.tables[model][i].get(field) is None, self.tables[model][i].get(field), i),
                reverse=direction.strip().lower() == "desc",
            )
        return ids[offset : offset + limit if limit else None]

    def _search_count(self, model: str, domain: list[Any] | None = None, **_: Any) -> int:
        return len(self._search(model, domain))

    def _read(
        self, model: str, ids: list[int], fields: list[str] | None = None, **_: Any
    ) -> list[dict[str, Any]]:
        rows = []
        for i in ids:
            if i not in self.tables[model]:
                raise missing(model, i)
            record = self.tables[model][i]
            if model == "account.move":
                record = self.moves.rendered(record)
            rows.append(
                {
                    "id": i,
                    **{
                        k: v
                        for k, v in record.items()
                        if k != "id" and not k.startswith("_") and (not fields or k in fields)
                    },
                }
            )
        return rows

    def _search_read(
        self,
        model: str,
        domain: list[Any] | None = None,
        fields: list[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        **_: Any,
    ) -> Any:
        return self._read(model, self._search(model, domain, offset, limit, order), fields)

    def _create(self, model: str, values: Any, **_: Any) -> Any:
        if isinstance(values, list):
            return [self._create_one(model, v) for v in values]
        return self._create_one(model, values)

    def _create_one(self, model: str, values: dict[str, Any]) -> int:
        self._check(model, values, creating=True)
        new_id = max(self.tables[model], default=0) + 1
        record = {"id": new_id, **{k: v for k, v in values.items() if k != "invoice_line_ids"}}
        if model == "account.move":
            self.moves.on_create(record, values)
        self.tables[model][new_id] = record
        return new_id

    def _write(self, model: str, ids: list[int], values: dict[str, Any], **_: Any) -> bool:
        self._check(model, values, creating=False)
        for i in ids:
            record = self._record(model, i)
            if model == "account.move" and record.get("state") == "posted":
                raise OdooError(
                    "odoo.exceptions.UserError", "You cannot modify a posted entry of this journal."
                )
            record.update({k: v for k, v in values.items() if k != "invoice_line_ids"})
            if "invoice_line_ids" in values:
                self.moves.set_lines(record, values["invoice_line_ids"], keep=True)
        return True

    def _record(self, model: str, record_id: int) -> dict[str, Any]:
        if record_id not in self.tables[model]:
            raise missing(model, record_id)
        return self.tables[model][record_id]

    def _unlink(self, model: str, ids: list[int], **_: Any) -> bool:
        for i in ids:
            if model == "account.move" and self._record(model, i).get("state") == "posted":
                raise OdooError(
                    "odoo.exceptions.UserError",
                    "You cannot delete an entry which has been posted once.",
                )
            self._record(model, i)
            del self.tables[model][i]
        return True

    def _button_draft(self, model: str, ids: list[int], **_: Any) -> bool:
        for i in ids:
            self.moves.reset_to_draft(self._record("account.move", i))
        return True

    def _action_post(self, model: str, ids: list[int], **_: Any) -> bool:
        if model != "account.move":
            raise OdooError(
                "builtins.AttributeError", f"The method 'action_post' does not exist on '{model}'"
            )
        for i in ids:
            self.moves.post(self._record(model, i))
        return True

    def _check(self, model: str, values: Any, creating: bool) -> None:
        if not isinstance(values, dict):
            raise OdooError("builtins.TypeError", "values must be a dictionary")
        if model not in FIELDS:
            raise OdooError(
                "odoo.exceptions.AccessError", f"You are not allowed to modify '{model}' records."
            )
        for key in values:
            if key not in FIELDS[model]:
                raise OdooError("builtins.ValueError", f"Invalid field '{key}' on model '{model}'")
        missing = [f for f in _REQUIRED[model] if creating and not values.get(f)]
        if missing:
            raise OdooError(
                "odoo.exceptions.ValidationError",
                f"The operation cannot be completed: missing required fields: {', '.join(missing)}",
            )
        plans = self.tables.get("account.analytic.plan", {})
        if model == "account.analytic.account" and "plan_id" in values and values["plan_id"] not in plans:
            raise OdooError(
                "odoo.exceptions.ValidationError", f"Analytic plan {values['plan_id']!r} does not exist"
            )
        if model == "account.move" and values.get("move_type", "out_invoice") not in (
            "out_invoice",
            "out_refund",
            "entry",
        ):
            raise OdooError(
                "odoo.exceptions.ValidationError", f"Unsupported move_type {values['move_type']!r}"
            )


def _compare(op: str, actual: Any, value: Any) -> bool:
    if op == "=":
        return bool(actual == value)
    if op == "!=":
        return bool(actual != value)
    if op in ("in", "not in"):
        return (actual in value) == (op == "in")
    if op == "ilike":
        return str(value).lower() in str(actual or "").lower()
    if op not in (">", ">=", "<", "<="):
        raise OdooError("builtins.ValueError", f"Invalid domain operator {op!r}")
    if actual is None:
        return False
    return bool({">": actual > value, ">=": actual >= value, "<": actual < value, "<=": actual <= value}[op])
