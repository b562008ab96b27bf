"""What the simulated NetSuite does to a record: references, sublists, totals, reading.

Each rule copies NetSuite's documented behaviour (SuiteTalk REST Web Services, Oracle help):

* **References are written by internal id** (or ``externalId``): a reference given only by
  ``refName`` (a currency symbol, an account name) is refused as ``INVALID_FLD_VALUE``, as is
  an id NetSuite does not hold. Names differ between accounts, so ids are what count
  ("Working with Records": select fields take ``{"id": ...}``; ``refName`` is read-only).
* **Non-keyed sublists are appended on update** (invoice ``item``, journal entry ``line``):
  an update or ``eid:`` upsert of a record that exists adds the request's lines to the
  record's lines, unless the request says ``?replace=item`` / ``?replace=line``
  ("Working with Sublists", chapter_1545142407: "Replace all" is the only way to change
  non-keyed sublist lines).
* **GET collapses sublists to links** unless ``?expandSubResources=true``
  ("Format of Sublists and Subrecords", section_1545141947).
* **External ids** hold letters, digits, ``_`` and ``-`` only here (``INVALID_ID``).
* An invoice's ``subtotal``, ``taxTotal`` and ``total`` are NetSuite's own: line tax is the
  line amount times its tax code's rate, rounded half-up to the cent.
* Collections filter with ``q`` (``field IS "value"`` joined by ``AND``; ``field ANY_OF v``),
  as the record API's collection queries do ("Record Collection Filtering").
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "EXTERNAL_ID",
    "SUBLISTS",
    "collapse",
    "error_json",
    "merge",
    "problem",
    "query",
    "render",
    "totals",
    "validate",
]

EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
SUBLISTS = {"invoice": "item", "journalEntry": "line"}  # the non-keyed sublist of each type
RECORD = "/services/rest/record/v1"

# record type -> {field: the record type it references}; lines: "<sublist>[]"
REFERENCES: dict[str, dict[str, str]] = {
    "customer": {"subsidiary": "subsidiary"},
    "job": {"parent": "customer", "subsidiary": "subsidiary"},
    "invoice": {
        "entity": "customer",
        "subsidiary": "subsidiary",
        "currency": "currency",
        "item[]": "serviceItem",
        "taxCode[]": "salestaxitem",
    },
    "journalEntry": {"subsidiary": "subsidiary", "currency": "currency", "account[]": "account"},
    "customrecord_handoffs_contract": {
        "custrecord_handoffs_customer": "customer",
        "custrecord_handoffs_subsidiary": "subsidiary",
        "custrecord_handoffs_currency": "currency",
    },
}
_NAMES = {
    "customer": "companyName",
    "currency": "symbol",
    "account": "acctNumber",
    "salestaxitem": "itemId",
    "serviceItem": "itemId",
}


def merge(
    kind: str, existing: dict[str, Any] | None, body: dict[str, Any], replace: set[str]
) -> dict[str, Any]:
    """The record after an update: body fields win; a non-keyed sublist is appended unless replaced."""
    merged = {**(existing or {}), **body}
    sublist = SUBLISTS.get(kind)
    if existing and sublist and sublist in body and sublist not in replace:
        old = (existing.get(sublist) or {}).get("items") or []
        new = (body.get(sublist) or {}).get("items") or []
        merged[sublist] = {"items": [*old, *new]}
    return merged


def _invalid(field: str, value: Any) -> tuple[str, str, str]:
    return (
        field,
        "INVALID_FLD_VALUE",
        f"You have entered an Invalid Field Value {value} for the following field: {field}",
    )


def problem(
    records: dict[str, dict[str, dict[str, Any]]], kind: str, record: dict[str, Any]
) -> tuple[str, str, str] | None:
    """The first reference NetSuite would refuse, as (path, error code, message)."""
    for field, target in REFERENCES.get(kind, {}).items():
        if field.endswith("[]"):
            sublist = SUBLISTS[kind]
            values = [
                (f"{sublist}.items[{i}].{field[:-2]}", line.get(field[:-2]))
                for i, line in enumerate(_items(record, sublist))
            ]
        else:
            values = [(field, record.get(field))]
        for path, ref in values:
            if ref is None:
                continue
            if not isinstance(ref, dict) or not (ref.get("id") or ref.get("externalId")):
                return _invalid(path, (ref or {}).get("refName") if isinstance(ref, dict) else ref)
            table = records.get(target, {})
            if ref.get("id") and str(ref["id"]) not in table:
                return _invalid(path, ref["id"])
            if ref.get("externalId") and not any(
                r.get("externalId") == ref["externalId"] for r in table.values()
            ):
                return _invalid(path, ref["externalId"])
    return None


def _items(record: dict[str, Any], sublist: str) -> list[dict[str, Any]]:
    value = record.get(sublist)
    return list(value.get("items") or []) if isinstance(value, dict) else []


def totals(records: dict[str, dict[str, dict[str, Any]]], record: dict[str, Any]) -> None:
    """Set an invoice's subtotal, taxTotal and total as NetSuite computes them."""
    cent = Decimal("0.01")
    subtotal = tax = Decimal(0)
    for line in _items(record, "item"):
        amount = Decimal(str(line.get("amount", 0)))
        subtotal += amount
        code = records.get("salestaxitem", {}).get(str((line.get("taxCode") or {}).get("id")))
        if code is not None:
            tax += (amount * Decimal(str(code["rate"])) / 100).quantize(cent, ROUND_HALF_UP)
    record.update(subtotal=subtotal, taxTotal=tax, total=subtotal + tax)


def render(
    records: dict[str, dict[str, dict[str, Any]]], kind: str, record: dict[str, Any], expand: bool
) -> dict[str, Any]:
    """A record as GET returns it: refNames filled in, sublists as links unless expanded."""
    out = dict(record)
    out["links"] = [{"rel": "self", "href": f"{RECORD}/{kind}/{record['id']}"}]
    for field, target in REFERENCES.get(kind, {}).items():
        if not field.endswith("[]") and isinstance(out.get(field), dict):
            out[field] = _named(records, target, out[field])
    sublist = SUBLISTS.get(kind)
    if sublist and sublist in out:
        href = f"{RECORD}/{kind}/{record['id']}/{sublist}"
        if not expand:
            out[sublist] = {"links": [{"rel": "self", "href": href}]}
        else:
            lines = []
            for n, line in enumerate(_items(record, sublist), start=1):
                shown = {"links": [{"rel": "self", "href": f"{href}/{n}"}], "line": n, **line}
                for field, target in REFERENCES[kind].items():
                    name = field[:-2]
                    if field.endswith("[]") and isinstance(shown.get(name), dict):
                        shown[name] = _named(records, target, shown[name])
                lines.append(shown)
            out[sublist] = {"links": [{"rel": "self", "href": href}], "items": lines}
    return out


def _named(records: dict[str, dict[str, dict[str, Any]]], target: str, ref: dict[str, Any]) -> dict[str, Any]:
    found = records.get(target, {}).get(str(ref.get("id")))
    name = found.get(_NAMES.get(target, "name")) if found else None
    return {**ref, "refName": str(name)} if name is not None else dict(ref)


_CLAUSE = re.compile(r'^\s*(\w+)\s+(IS|ANY_OF)\s+"?([^"]*?)"?\s*$')


def query(table: dict[str, dict[str, Any]], q: str | None) -> list[dict[str, Any]] | None:
    """Records matching ``q`` (None when ``q`` cannot be parsed)."""
    rows = list(table.values())
    for clause in [c for c in re.split(r"\s+AND\s+", q or "") if c.strip()]:
        match = _CLAUSE.match(clause)
        if match is None:
            return None
        field, op, value = match.groups()
        wanted = {v.strip() for v in value.strip("[]").split(",")} if op == "ANY_OF" else {value}
        rows = [r for r in rows if _value(r.get(field)) in wanted]
    return rows


def _value(value: Any) -> str:
    return str(value.get("id")) if isinstance(value, dict) else str(value)


def collapse(kind: str, rows: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    """A collection page: ids and links only, as NetSuite lists records."""
    page = rows[offset : offset + limit]
    return {
        "links": [{"rel": "self", "href": f"{RECORD}/{kind}"}],
        "count": len(page),
        "hasMore": offset + limit < len(rows),
        "offset": offset,
        "totalResults": len(rows),
        "items": [
            {"links": [{"rel": "self", "href": f"{RECORD}/{kind}/{r['id']}"}], "id": r["id"]} for r in page
        ],
    }


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def error_json(status: int, code: str, message: str, path: str | None) -> dict[str, Any]:
    detail: dict[str, Any] = {"detail": message, "o:errorCode": code}
    if path:
        detail["o:errorPath"] = path
    return {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "o:errorDetails": [detail],
    }


def validate(kind: str, record: dict[str, Any]) -> tuple[str, str] | None:
    """The first record-level problem as (JSON path, message), like NetSuite's INVALID_CONTENT."""
    required = {
        "customer": ("companyName", "subsidiary"),
        "job": ("companyName", "parent"),
        "invoice": ("entity", "item"),
        "journalEntry": ("subsidiary", "line"),
        "customrecord_handoffs_contract": ("name", "custrecord_handoffs_customer"),
    }.get(kind, ())
    for name in required:
        if record.get(name) in (None, "", {}):
            return name, f"Please enter value(s) for: {name}"
    if kind == "invoice":
        items = record["item"].get("items") if isinstance(record["item"], dict) else None
        if not items:
            return "item.items", "An invoice needs at least one line under item.items"
        for i, line in enumerate(items):
            if "item" not in line or ("amount" not in line and "rate" not in line):
                return f"item.items[{i}]", "Each line needs an item and an amount or rate"
    if kind == "journalEntry":
        lines = record["line"].get("items") if isinstance(record["line"], dict) else None
        if not lines or len(lines) < 2:
            return "line.items", "A journal entry needs at least two lines"
        debit = sum((Decimal(str(x.get("debit", 0))) for x in lines), Decimal(0))
        credit = sum((Decimal(str(x.get("credit", 0))) for x in lines), Decimal(0))
        if debit != credit:
            return "line.items", f"The transaction is out of balance: debits {debit}, credits {credit}"
    return None
