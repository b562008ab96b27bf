"""Checks for an ERP: it answers, refuses a wrong credential; with ``write``, it refuses an
invoice it cannot map as terminal and posts a given invoice once however often it is sent.

The writing checks post to the ERP: the unmappable invoice names a customer and legal entity
no ERP knows (nothing can be created), and the posted one is a hub invoice under the very
idempotency key the hub itself uses, so its later real delivery finds it already there.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from handoffs.config.systems import SystemConfig
from handoffs.conformance.checks import Check, answers, refuses_wrong_credential
from handoffs.connectors.mapping import Lookups
from handoffs.connectors.registry import build_erp
from handoffs.domain.billing import Invoice, InvoiceLine
from handoffs.domain.money import Money
from handoffs.engine.errors import HandoffsFailure, TerminalError

__all__ = ["erp_checks", "posts_once", "refuses_unmappable", "unmappable_invoice"]


def erp_checks(
    cfg: SystemConfig, lookups: Lookups, *, write: bool = False, invoice: Invoice | None = None, **http: Any
) -> list[Check]:
    """Every ERP check that applies; the writing ones only with ``write``."""
    erp: Any = build_erp(cfg, lookups, **http)
    if erp is None:
        return [Check("posts invoices", False, f"connector type {cfg.connector!r} is not an ERP")]
    try:
        found = [
            answers(erp, cfg.name),
            refuses_wrong_credential(cfg, lambda c: build_erp(c, lookups, **http)),
        ]
        if write:
            found.append(refuses_unmappable(erp))
            if invoice is not None:
                found.append(posts_once(erp, invoice))
    finally:
        close = getattr(erp, "close", None)
        if close:
            close()
    return found


def unmappable_invoice(currency: str = "EUR") -> Invoice:
    """A well-formed invoice for a customer and legal entity that exist nowhere."""
    zero, hundred = Money(Decimal("0.00"), currency), Money(Decimal("100.00"), currency)
    line = InvoiceLine(
        id="conformance-line-1",
        kind="fee",
        description="conformance check",
        quantity=Decimal(1),
        unit_price=hundred,
        amount=hundred,
        tax=zero,
    )
    return Invoice(
        id="conformance-unmappable",
        kind="invoice",
        legal_entity_id="le-conformance-nowhere",
        customer_id="cust-conformance-nowhere",
        contract_id="ctr-conformance-nowhere",
        project_id="prj-conformance-nowhere",
        period="2000-01",
        issue_date=date(2000, 1, 31),
        currency=currency,
        lines=(line,),
        subtotal=hundred,
        tax=zero,
        total=hundred,
    )


def refuses_unmappable(erp: Any) -> Check:
    """An invoice for a customer and legal entity that exist nowhere is refused as terminal."""
    name = "refuses an invoice it cannot map (terminal)"
    try:
        ref = erp.post_invoice(unmappable_invoice(), f"{erp.system}:invoice:conformance-unmappable")
    except TerminalError as exc:
        return Check(name, True, f"refused: {exc}", writes=True)
    except HandoffsFailure as exc:
        return Check(
            name, False, f"refused as retryable, so it would be retried for ever: {exc}", writes=True
        )
    return Check(name, False, f"accepted as {ref.external_id}", writes=True)


def posts_once(erp: Any, invoice: Invoice) -> Check:
    """``invoice`` sent twice under the hub's own delivery key names one record."""
    name = f"posts {invoice.id} once however often it is sent"
    key = f"{erp.system}:invoice:{invoice.id}"  # the hub's own delivery key
    try:
        first = erp.post_invoice(invoice, key)
        again = erp.post_invoice(invoice, key)
    except HandoffsFailure as exc:
        return Check(name, False, str(exc), writes=True)
    if first.external_id != again.external_id:
        return Check(name, False, f"two records: {first.external_id} and {again.external_id}", writes=True)
    return Check(name, True, f"both answers name {first.external_id}", writes=True)
