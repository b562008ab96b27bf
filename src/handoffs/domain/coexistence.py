"""The shadow comparison of an ERP migration: what two ERPs accepted, difference by difference.

Each ERP's connector reads back what it holds for the hub's invoices as a
:class:`PostedDocument`. An attribute a system does not hold is None (a GL interface
knows accounts but not invoice lines; NetSuite's invoice knows lines but not the tax) and
is compared only when both sides hold it::

    missing         accepted by one ERP and not the other
    currency        the currencies differ
    net | tax | total        the amount differs
    line_count      the number of invoice lines differs
    line            a line (by the hub's line id) is absent on one side or its amount differs
    account         an account's net posting (debits minus credits) differs
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

__all__ = ["Difference", "PostedDocument", "compare_postings", "compared_attributes"]

_AMOUNTS = ("net", "tax", "total")


@dataclass(frozen=True, slots=True)
class PostedDocument:
    """One invoice or journal entry as an ERP holds it, keyed by the hub's id for it."""

    document_id: str
    system: str
    external_id: str
    currency: str | None = None
    net: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None
    lines: Mapping[str, Decimal] | None = None  # the hub's line id -> line amount
    accounts: Mapping[str, Decimal] | None = None  # account -> debits minus credits


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference; ``legacy`` and ``new`` are what each side holds (None: nothing)."""

    document_id: str
    kind: str
    legacy: str | None
    new: str | None
    item: str | None = None  # the line id or account the difference is about
    document: str = "invoice"  # or "journal"

    def as_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "document_id": self.document_id,
            "kind": self.kind,
            "item": self.item,
            "legacy": self.legacy,
            "new": self.new,
        }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _keyed(
    document_id: str, kind: str, left: Mapping[str, Decimal], right: Mapping[str, Decimal]
) -> list[Difference]:
    out = []
    for item in sorted(set(left) | set(right)):
        a, b = left.get(item), right.get(item)
        if a is None or b is None or a != b:
            out.append(Difference(document_id, kind, _text(a), _text(b), item))
    return out


def _pair(legacy: PostedDocument, new: PostedDocument) -> list[Difference]:
    out: list[Difference] = []
    key = legacy.document_id
    if legacy.currency and new.currency and legacy.currency != new.currency:
        out.append(Difference(key, "currency", legacy.currency, new.currency))
    for name in _AMOUNTS:
        a, b = getattr(legacy, name), getattr(new, name)
        if a is not None and b is not None and a != b:
            out.append(Difference(key, name, str(a), str(b)))
    if legacy.lines is not None and new.lines is not None:
        if len(legacy.lines) != len(new.lines):
            out.append(Difference(key, "line_count", str(len(legacy.lines)), str(len(new.lines))))
        out += _keyed(key, "line", legacy.lines, new.lines)
    if legacy.accounts is not None and new.accounts is not None:
        out += _keyed(key, "account", legacy.accounts, new.accounts)
    return out


def compare_postings(
    document_ids: list[str],
    legacy: Mapping[str, PostedDocument],
    new: Mapping[str, PostedDocument],
    document: str = "invoice",
) -> list[Difference]:
    """Every difference between what each ERP accepted for ``document_ids``, in a stable order."""
    out: list[Difference] = []
    for document_id in sorted(set(document_ids)):
        a, b = legacy.get(document_id), new.get(document_id)
        if a is None and b is None:
            continue
        if a is None or b is None:
            out.append(
                Difference(document_id, "missing", a.external_id if a else None, b.external_id if b else None)
            )
            continue
        out += _pair(a, b)
    return [replace(d, document=document) for d in out]


def compared_attributes(legacy: Mapping[str, PostedDocument], new: Mapping[str, PostedDocument]) -> list[str]:
    """The attributes both sides hold for at least one invoice (what the comparison could see)."""
    found = set()
    for document_id in set(legacy) & set(new):
        a, b = legacy[document_id], new[document_id]
        for name in ("currency", *_AMOUNTS, "lines", "accounts"):
            if getattr(a, name) is not None and getattr(b, name) is not None:
                found.add(name)
    return ["presence", *sorted(found)]
