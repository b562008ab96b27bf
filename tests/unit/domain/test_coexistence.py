"""The shadow comparison's rules, on hand-made postings: what differs, and what is not compared."""

from __future__ import annotations

from decimal import Decimal

from handoffs.domain.coexistence import PostedDocument, compare_postings, compared_attributes
from handoffs.domain.routing import Route, Routing

D = Decimal


def gl(invoice_id: str, **kw: object) -> PostedDocument:
    fields: dict[str, object] = {
        "currency": "GBP",
        "net": D("100.00"),
        "tax": D("20.00"),
        "total": D("120.00"),
        "accounts": {"1100": D("120.00"), "4000": D("-100.00"), "2100": D("-20.00")},
    }
    return PostedDocument(invoice_id, "gl", f"B-{invoice_id}", **{**fields, **kw})  # type: ignore[arg-type]


def erp(invoice_id: str, **kw: object) -> PostedDocument:
    fields: dict[str, object] = {
        "currency": "GBP",
        "net": D("100.00"),
        "lines": {"L1": D("60"), "L2": D("40")},
    }
    return PostedDocument(invoice_id, "erp", f"E-{invoice_id}", **{**fields, **kw})  # type: ignore[arg-type]


def test_only_what_both_sides_hold_is_compared() -> None:
    legacy, new = {"I1": gl("I1")}, {"I1": erp("I1")}
    assert compare_postings(["I1"], legacy, new) == []
    assert compared_attributes(legacy, new) == ["presence", "currency", "net"]


def test_every_kind_of_difference_is_listed_with_both_sides() -> None:
    legacy = {
        "I1": gl("I1", currency="EUR"),
        "I2": gl("I2", lines={"L1": D("60"), "L2": D("40")}),
        "I3": gl("I3"),
    }
    new = {
        "I1": gl("I1"),
        "I2": gl("I2", lines={"L1": D("70")}, accounts={"1100": D("120.00"), "4000": D("-120.00")}),
        "I4": erp("I4"),
    }
    found = [
        (d.document_id, d.kind, d.item, d.legacy, d.new)
        for d in compare_postings(["I1", "I2", "I3", "I4", "I5"], legacy, new)
    ]
    assert found == [
        ("I1", "currency", None, "EUR", "GBP"),
        ("I2", "line_count", None, "2", "1"),
        ("I2", "line", "L1", "60", "70"),
        ("I2", "line", "L2", "40", None),
        ("I2", "account", "2100", "-20.00", None),
        ("I2", "account", "4000", "-100.00", "-120.00"),
        ("I3", "missing", None, "B-I3", None),
        ("I4", "missing", None, None, "E-I4"),
    ]  # I5 was sent to both and neither holds it: nothing to compare, no difference


def test_the_first_matching_route_decides_and_the_rest_go_everywhere() -> None:
    routing = Routing((Route("invoice", ("gl",), "LE-UK"), Route("invoice", ("gl", "erp"))))
    assert routing.targets("invoice", "LE-UK", ["erp", "gl", "other"]) == ["gl"]
    assert routing.targets("invoice", "LE-US", ["erp", "gl", "other"]) == ["erp", "gl"]
    assert routing.targets("contract", "LE-US", ["erp", "gl", "other"]) == ["erp", "gl", "other"]
    assert routing.by_entity("invoice") and not routing.by_entity("contract")
