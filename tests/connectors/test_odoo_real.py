"""The Odoo connector's checks against a real Odoo 17 Community server (opt-in).

Skipped unless ``HANDOFFS_TEST_ODOO_URL`` is set, also under ``CI=1``: CI never depends on
a real Odoo (docs/connectors.md says how to run one locally from its public source).

Environment: ``HANDOFFS_TEST_ODOO_URL``, ``HANDOFFS_TEST_ODOO_DB``, ``HANDOFFS_TEST_ODOO_LOGIN``,
and ``HANDOFFS_TEST_ODOO_PASSWORD`` (session mode) and/or ``HANDOFFS_TEST_ODOO_API_KEY``
(jsonrpc mode); ``HANDOFFS_TEST_ODOO_TAX_ID`` (a 20 % sales tax of company 1),
``HANDOFFS_TEST_ODOO_PRODUCT_ID`` (a service product; 1 when unset). Company 1 must have
GBP active (the invoices are a UK firm's). Every run uses new invoice ids.
"""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handoffs.bootstrap import App
from handoffs.connectors.odoo import OdooConfig, OdooErp
from handoffs.connectors.odoo.rpc import OdooRpcError
from handoffs.connectors.secrets import Secret
from handoffs.domain.billing import Invoice
from handoffs.domain.credit_notes import credit_note
from handoffs.domain.ledger import BillingLedger
from handoffs.domain.money import Money
from handoffs.simulator.firm import Firm
from handoffs.sync import StoreLookups
from tests.connectors.support import firm_invoice
from tests.connectors.test_erps import _mappings
from tests.connectors.test_odoo_facts import _relined, _taxed

URL = os.environ.get("HANDOFFS_TEST_ODOO_URL", "")
pytestmark = pytest.mark.skipif(
    not URL, reason="no real Odoo: set HANDOFFS_TEST_ODOO_URL (opt-in, never in CI)"
)

MODES = [
    pytest.param("session", "HANDOFFS_TEST_ODOO_PASSWORD", id="password-session"),
    pytest.param("jsonrpc", "HANDOFFS_TEST_ODOO_API_KEY", id="api-key-jsonrpc"),
]


def _erp(hub: App, mode: str, secret_var: str) -> OdooErp:
    secret = os.environ.get(secret_var)
    if not secret:
        pytest.skip(f"{secret_var} is not set")
    config = OdooConfig(
        URL,
        os.environ["HANDOFFS_TEST_ODOO_DB"],
        os.environ["HANDOFFS_TEST_ODOO_LOGIN"],
        Secret(secret),
        mode=mode,
        credential="api_key" if "API_KEY" in secret_var else "password",
        product_id=int(os.environ.get("HANDOFFS_TEST_ODOO_PRODUCT_ID", "1")),
        taxes={"tax-uk-std": int(os.environ["HANDOFFS_TEST_ODOO_TAX_ID"])},
        companies={"le-uk": 1},
        settle_seconds=10,
    )
    return OdooErp("odoo", config, _mappings("odoo"), StoreLookups(hub.engine))


def _fresh(firm: Firm) -> Invoice:
    invoice = _taxed(firm_invoice(firm, "le-uk"))
    return dataclasses.replace(invoice, id=f"{invoice.id}-{int(time.time() * 1000)}")


def _moves(erp: OdooErp, ref: str) -> list[dict[str, Any]]:
    domain = [["ref", "=", ref], ["state", "!=", "cancel"]]
    return list(
        erp.rpc.call("account.move", "search_read", domain, fields=["move_type", "state", "amount_total"])
    )


@pytest.mark.parametrize(("mode", "secret_var"), MODES)
def test_real_odoo_check_proves_the_setup(firm_hub: App, mode: str, secret_var: str) -> None:
    result = _erp(firm_hub, mode, secret_var).check()
    assert result.ok, result.detail


@pytest.mark.parametrize(("mode", "secret_var"), MODES)
def test_real_odoo_invoice_posts_once_and_reads_back_to_the_cent(
    firm_hub: App, firm: Firm, mode: str, secret_var: str
) -> None:
    erp = _erp(firm_hub, mode, secret_var)
    invoice = _fresh(firm)
    first = erp.post_invoice(invoice, "k")  # read back inside: a difference raises
    again = erp.post_invoice(invoice, "k")
    assert first.external_id == again.external_id and len(_moves(erp, invoice.id)) == 1
    held = erp.read_invoices([invoice.id])[invoice.id]
    assert (held.currency, held.total) == (invoice.currency, invoice.total.amount)


def test_real_odoo_credit_note_and_rounded_quantity(firm_hub: App, firm: Firm) -> None:
    erp = _erp(firm_hub, "session", "HANDOFFS_TEST_ODOO_PASSWORD")
    base = _fresh(firm)
    line = base.lines[0]
    hours, rate = Decimal("11.3333"), Decimal("150.00")
    amount = Money((hours * rate).quantize(Decimal("0.01")), base.currency)
    tax = Money((amount.amount * Decimal("0.20")).quantize(Decimal("0.01")), base.currency)
    odd = dataclasses.replace(
        line, quantity=hours, unit_price=Money(rate, base.currency), amount=amount, tax=tax
    )
    invoice = _relined(base, [odd])
    erp.post_invoice(invoice, "k")
    note = credit_note(
        credit_note_id=f"CN-{invoice.id}",
        invoice=invoice,
        ledger=BillingLedger.from_documents([invoice]),
        issue_date=date.today(),
        reason="wrong purchase order",
    )
    erp.post_invoice(note, "k2")
    [move] = _moves(erp, note.id)
    assert move["move_type"] == "out_refund" and Decimal(str(move["amount_total"])) == -note.total.amount


def test_real_odoo_refuses_private_methods(firm_hub: App) -> None:
    erp = _erp(firm_hub, "session", "HANDOFFS_TEST_ODOO_PASSWORD")
    with pytest.raises(OdooRpcError, match="Private methods"):
        erp.rpc.call("account.move", "_post", [0])


def test_real_odoo_api_key_is_no_session_password(firm_hub: App, tmp_path: Path) -> None:
    key = os.environ.get("HANDOFFS_TEST_ODOO_API_KEY")
    if not key:
        pytest.skip("HANDOFFS_TEST_ODOO_API_KEY is not set")
    erp = _erp(firm_hub, "session", "HANDOFFS_TEST_ODOO_PASSWORD")
    erp.config = dataclasses.replace(erp.config, password=Secret(key))
    erp.rpc.config = erp.config
    assert not erp.check().ok
