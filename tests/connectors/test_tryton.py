"""The Tryton connector against a real trytond (started by the session's ``tryton_server``):
invoices, credit notes, taxes and two currencies read back to the cent; a lost
acknowledgement and two workers posting at once leave exactly one invoice; the setup
check proves what a real Tryton needs. In CI these fail, never skip, without trytond."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from handoffs.cli.main import app
from handoffs.connectors.secrets import Secret
from handoffs.connectors.tryton import TrytonConfig, TrytonErp
from handoffs.connectors.tryton.rpc import _error
from handoffs.domain.billing import Invoice, InvoiceLine
from handoffs.domain.money import Money
from handoffs.engine.errors import TerminalError, TransientError
from tests.connectors.support import FAST
from tests.support.tryton import LOGIN, PASSWORD, FaultyTransport, TrytonServer

pytestmark = pytest.mark.tryton

TAXES = {"vat-20": "VAT 20%", "vat-0": "VAT 0%"}
RATES = {"vat-20": Decimal("0.20"), "vat-0": Decimal(0)}


@pytest.fixture
def tryton(tryton_server: TrytonServer) -> TrytonConfig:
    """A fresh database holding the template's books, and how to reach it."""
    database = tryton_server.database()
    return TrytonConfig(
        tryton_server.url, database, LOGIN, Secret(PASSWORD), taxes=TAXES, settle_seconds=5, settle_poll=0.2
    )


def _erp(config: TrytonConfig, **http: Any) -> TrytonErp:
    return TrytonErp("tryton", config, policy=FAST, **http)


def _invoice(
    invoice_id: str, currency: str, lines: list[tuple[str, str, str]], *, credits: str | None = None
) -> Invoice:
    """An invoice (or credit note, when ``credits``) of (hours, rate, tax code) lines."""
    built = []
    for n, (hours, rate, tax_code) in enumerate(lines, start=1):
        quantity, price = Decimal(hours), Money(Decimal(rate), currency)
        amount = Money(quantity * price.amount, currency).rounded()
        tax = Money(amount.amount * RATES[tax_code], currency).rounded()
        built.append(
            InvoiceLine(
                id=f"{invoice_id}-L{n}",
                kind="time",
                description=f"consulting, line {n}",
                quantity=quantity,
                unit_price=price,
                amount=amount,
                tax=tax,
                tax_code_id=tax_code,
            )
        )
    subtotal = Money.sum([line.amount for line in built], currency)
    tax_total = Money.sum([line.tax for line in built], currency)
    return Invoice(
        id=invoice_id,
        kind="credit_note" if credits else "invoice",
        legal_entity_id="le-us",
        customer_id="cust-0001",
        contract_id="ctr-0001",
        project_id="prj-0001",
        period="2025-03",
        issue_date=date(2025, 3, 31),
        currency=currency,
        lines=tuple(built),
        subtotal=subtotal,
        tax=tax_total,
        total=subtotal + tax_total,
        credits_invoice_id=credits,
    )


def _held(erp: TrytonErp, reference: str) -> list[dict[str, Any]]:
    """Every invoice Tryton holds with this reference (drafts and cancelled ones too)."""
    ids = erp.rpc.call("account.invoice", "search", [["reference", "=", reference]], 0, None, None)
    fields = ["state", "untaxed_amount", "tax_amount", "total_amount", "lines", "sequence_type_cache"]
    return list(erp.rpc.call("account.invoice", "read", ids, fields))


def test_tryton_invoices_with_taxes_in_two_currencies_read_back_to_the_cent(tryton: TrytonConfig) -> None:
    erp = _erp(tryton)
    usd = _invoice("INV-T-USD-1", "USD", [("5.25", "320", "vat-0"), ("7.5", "137.50", "vat-20")])
    gbp = _invoice("INV-T-GBP-1", "GBP", [("30", "208", "vat-20"), ("0.75", "99.99", "vat-20")])
    for invoice in (usd, gbp):
        erp.post_invoice(invoice, f"tryton:invoice:{invoice.id}")
    held = erp.read_invoices([usd.id, gbp.id])
    for invoice in (usd, gbp):
        doc = held[invoice.id]
        assert (doc.currency, doc.net, doc.tax, doc.total) == (
            invoice.currency,
            invoice.subtotal.amount,
            invoice.tax.amount,
            invoice.total.amount,
        )
        (row,) = _held(erp, invoice.id)
        assert row["state"] == "posted" and len(row["lines"]) == len(invoice.lines)
    assert held[gbp.id].tax == Decimal("1263.00")  # 20 % of 6240.00 and of 74.99, per line


def test_tryton_credit_note_is_an_out_invoice_with_negative_lines(tryton: TrytonConfig) -> None:
    erp = _erp(tryton)
    invoice = _invoice("INV-T-CN-1", "GBP", [("10", "150", "vat-20"), ("2", "80", "vat-0")])
    note = _invoice("INV-T-CN-1-CN", "GBP", [("-10", "150", "vat-20")], credits=invoice.id)
    erp.post_invoice(invoice, "k1")
    ref = erp.post_invoice(note, "k2")
    doc = erp.read_invoices([note.id])[note.id]
    assert doc.external_id == ref.external_id
    assert (doc.net, doc.tax, doc.total) == (Decimal("-1500.00"), Decimal("-300.00"), Decimal("-1800.00"))
    (row,) = _held(erp, note.id)
    assert row["sequence_type_cache"] == "credit_note"  # numbered as a credit note by Tryton


def test_tryton_rounding_is_never_silent(tryton: TrytonConfig) -> None:
    """2.5 h x 0.25 is 0.625: the hub rounds half up (0.63), Tryton half even (0.62)."""
    erp = _erp(tryton)
    invoice = _invoice("INV-T-ROUND-1", "USD", [("2.5", "0.25", "vat-0"), ("11.3333", "150", "vat-20")])
    erp.post_invoice(invoice, "k")
    doc = erp.read_invoices([invoice.id])[invoice.id]
    assert (doc.net, doc.total) == (invoice.subtotal.amount, invoice.total.amount)
    (row,) = _held(erp, invoice.id)
    lines = erp.rpc.call(
        "account.invoice.line", "read", row["lines"], ["quantity", "unit_price", "description"]
    )
    odd = next(line for line in lines if line["unit_price"] == Decimal("0.63"))
    assert odd["quantity"] == 1 and "2.5 x 0.25 USD" in odd["description"]


def test_tryton_posting_twice_leaves_one_invoice(tryton: TrytonConfig) -> None:
    erp = _erp(tryton)
    invoice = _invoice("INV-T-TWICE-1", "USD", [("3", "100", "vat-20")])
    first = erp.post_invoice(invoice, "k")
    assert _erp(tryton).post_invoice(invoice, "k") == first
    assert [r["state"] for r in _held(erp, invoice.id)] == ["posted"]


def test_tryton_lost_acknowledgement_creates_no_second_invoice(tryton: TrytonConfig) -> None:
    transport = FaultyTransport("lost", limit=1)
    erp = _erp(tryton, transport=transport)
    invoice = _invoice("INV-T-LOST-1", "GBP", [("8", "120", "vat-20")])
    ref = erp.post_invoice(invoice, "k")
    assert transport.fired == 1
    held = _held(erp, invoice.id)
    assert [(r["id"], r["state"]) for r in held] == [(int(ref.external_id), "posted")]
    assert held[0]["total_amount"] == invoice.total.amount


class _Together(httpx.BaseTransport):
    """Holds each worker's first invoice create until both have looked and found nothing."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.inner, self.barrier, self.waited = httpx.HTTPTransport(), barrier, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if b"model.account.invoice.create" in request.content and not self.waited:
            self.waited = True
            self.barrier.wait(timeout=30)
        return self.inner.handle_request(request)


@pytest.mark.parametrize("workers", ["threads of one process", "separate processes"])
def test_tryton_two_workers_posting_at_once_leave_one_invoice(tryton: TrytonConfig, workers: str) -> None:
    invoice = _invoice("INV-T-RACE-1", "USD", [("6", "210", "vat-20"), ("1", "95", "vat-0")])
    if workers == "separate processes":  # no shared lock: both create, and one draft must go
        barrier = threading.Barrier(2)
        erps = [_erp(tryton, transport=_Together(barrier)) for _ in range(2)]
        for erp in erps:
            erp.locks = [threading.Lock()]
    else:  # the lock per reference lets one worker in at a time
        erps = [_erp(tryton) for _ in range(2)]
    refs: list[str] = []
    errors: list[BaseException] = []

    def post(erp: TrytonErp) -> None:
        try:
            refs.append(erp.post_invoice(invoice, "k").external_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(erp,)) for erp in erps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(set(refs)) == 1
    assert [(r["id"], r["state"]) for r in _held(erps[0], invoice.id)] == [(int(refs[0]), "posted")]


def test_tryton_readback_difference_is_an_exception_with_both_figures(tryton: TrytonConfig) -> None:
    wrong = replace(tryton, taxes={"vat-20": "VAT 0%", "vat-0": "VAT 0%"})  # a 20 % code sent as 0 %
    invoice = _invoice("INV-T-DIFF-1", "EUR", [("4", "250", "vat-20")])
    with pytest.raises(TerminalError) as caught:
        _erp(wrong).post_invoice(invoice, "k")
    message = str(caught.value)
    assert caught.value.category == "read_back"
    assert "(tax, total differ)" in message
    assert "hub currency EUR, untaxed 1000.00, tax 200.00, total 1200.00, lines 1" in message
    assert "tryton currency EUR, untaxed 1000.00, tax 0.00, total 1000.00, lines 1" in message


def test_tryton_expired_session_logs_in_again(tryton: TrytonConfig) -> None:
    erp = _erp(tryton)
    erp.post_invoice(_invoice("INV-T-SESS-1", "USD", [("1", "100", "vat-0")]), "k1")
    erp.rpc._post("common.db.logout", [], retry=False)  # the server forgets the session
    erp.post_invoice(_invoice("INV-T-SESS-2", "USD", [("2", "100", "vat-0")]), "k2")
    assert erp.rpc.logins == 2


def test_tryton_systems_check_proves_the_setup(tryton: TrytonConfig, tmp_path: Path) -> None:
    def check(taxes: dict[str, str]) -> dict[str, Any]:
        lines = "".join(f"        {code}: {name}\n" for code, name in taxes.items())
        (tmp_path / "handoffs.yaml").write_text(
            "version: 1\nsystems:\n  tryton:\n    role: erp\n    connector: tryton\n"
            f"    base_url: {tryton.base_url}\n"
            f"    credentials: {{database: {tryton.database}, login: {LOGIN}, "
            f"password: 'value:{PASSWORD}'}}\n"
            f"    options:\n      taxes:\n{lines}"
        )
        result = CliRunner().invoke(
            app, ["systems", "check", "-f", str(tmp_path / "handoffs.yaml"), "--json"]
        )
        assert PASSWORD not in result.output
        return dict(json.loads(result.stdout)["systems"][0]) | {"exit": result.exit_code}

    good = check(TAXES)
    assert good["reachable"] is True and good["exit"] == 0
    assert "company 1 in USD" in good["detail"] and "tax rounding per line" in good["detail"]
    bad = check({**TAXES, "tax-de-std": "VAT 19%"})
    assert bad["reachable"] is False and bad["exit"] == 1 and "no tax 'VAT 19%'" in bad["detail"]


def test_tryton_errors_are_classified() -> None:
    assert isinstance(_error("t", ["ConcurrencyException", "Records were modified"]), TransientError)
    assert isinstance(_error("t", ["database is locked", "Traceback ..."]), TransientError)
    refused = _error("t", ["UserError", ["The invoice is not valid", "", None]])
    assert isinstance(refused, TerminalError) and not isinstance(refused, TransientError)
    assert "Traceback" not in str(_error("t", ["KeyError 'x'", "Traceback (most recent call last)"]))


def test_tryton_slow_create_that_outlives_the_timeout_creates_no_second_invoice(tryton: TrytonConfig) -> None:
    transport = FaultyTransport("slow", limit=1)
    erp = _erp(tryton, transport=transport)
    invoice = _invoice("INV-T-SLOW-1", "EUR", [("12", "95", "vat-20"), ("3.5", "110", "vat-0")])
    ref = erp.post_invoice(invoice, "k")
    assert transport.timeouts == 1  # the create really outlived the client's 10 ms timeout
    held = _held(erp, invoice.id)
    assert [(r["id"], r["state"]) for r in held] == [(int(ref.external_id), "posted")]
