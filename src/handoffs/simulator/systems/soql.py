"""A tiny SOQL subset.

``SELECT fields FROM Object [WHERE a op v [AND ...]] [ORDER BY f [ASC|DESC]] [LIMIT n]``
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Query", "SoqlError", "parse_soql"]

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<dir>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COND = re.compile(r"^\s*(\w+)\s*(=|!=|>=|<=|>|<)\s*(.+?)\s*$")


class SoqlError(ValueError):
    """A query outside the supported subset; ``code`` is Salesforce's errorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Query:
    fields: tuple[str, ...]
    object: str
    where: tuple[tuple[str, str, Any], ...]
    order: str | None
    descending: bool
    limit: int | None


def _literal(text: str) -> Any:
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("\\'", "'")
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})", text):
        return ("datetime", text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return ("date", text)
    try:
        return Decimal(text)
    except ArithmeticError:
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text}'") from None


def parse_soql(text: str) -> Query:
    match = _QUERY.match(text)
    if not match:
        raise SoqlError(
            "MALFORMED_QUERY",
            "unexpected token in query; this simulator supports "
            "SELECT ... FROM ... [WHERE ...] [ORDER BY ...] [LIMIT n]",
        )
    fields = tuple(f.strip() for f in match["fields"].split(","))
    where = []
    if match["where"]:
        for part in re.split(r"\s+AND\s+", match["where"], flags=re.IGNORECASE):
            cond = _COND.match(part)
            if not cond:
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{part.strip()}'")
            where.append((cond[1], cond[2], _literal(cond[3])))
    limit = int(match["limit"]) if match["limit"] else None
    return Query(
        fields, match["object"], tuple(where), match["order"], (match["dir"] or "").upper() == "DESC", limit
    )
