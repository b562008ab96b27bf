"""Odoo 17 Community as it really behaves, one fact per test, over HTTP against the strict simulator.

Each test says what the connector of commit 56e78c4 did; each fails on that connector.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handoffs.bootstrap import App
from handoffs.connectors.http import HttpPolicy
from handoffs.connectors.odoo import OdooConfig, OdooErp
from handoffs.connectors.secrets import Secret
from handoffs.domain.billing import Invoice, InvoiceLine
from handoffs.domain.credit_notes import credit_note
from handoffs.domain.ledger import BillingLedger
from handoffs.domain.money import Money
from handoffs.engine.errors import TerminalError, TransientError
from handoffs.simulator.firm import Firm
from handoffs.simulator.systems.odoo import ODOO_API_KEY, OdooSim
from handoffs.sync import StoreLookups
from tests.connectors import test_erps
from tests.connectors.support import firm_invoice

SHORT = HttpPolicy(connect_timeout=2, read_timeout=0.3, attempts=3, backoff=0.01, max_wait=1.0)


def _start(seeds: Any, serve: Any, hub: App, tmp_path: Path, **o: Any) -> tuple[Any, OdooErp]:
    mode = o.pop("mode", "session")
    runner = test_erps.TestOdooJsonRpc() if mode == "jsonrpc" else test_erps.TestOdooSession()
    sim, erp = runner.start(seeds, serve, hub, tmp_path, **o)
    return sim, erp


def _moves(sim: OdooSim, ref: str) -> list[dict[str, Any]]:
    return [m for m in sim.store.tables["account.move"].values() if m.get("ref") == ref]


def _relined(invoice: Invoice, lines: list[InvoiceLine]) -> Invoice:
    currency = invoice.currency
    subtotal = Money.sum([line.amount for line in lines], currency)
    tax = Money.sum([line.tax for line in lines], currency)
    return dataclasses.replace(invoice, lines=tuple(lines), subtotal=subtotal, tax=tax, total=subtotal + tax)


def _api_key_entry(url: str) -> dict[str, Any]:
    """A ``handoffs.yaml`` entry for the simulated Odoo holding its API key (and session mode)."""
    credentials = {"db": "handoffs", "login": "integration@firm.example", "api_key": f"value:{ODOO_API_KEY}"}
    return {"base_url": url, "credentials": credentials, "options": {"mode": "session"}}


def _taxed(invoice: Invoice, code: str = "tax-uk-std", rate: str = "0.20") -> Invoice:
    """The invoice with every line under a taxed code (the firm's UK standard rate)."""
    lines = [
        dataclasses.replace(
            line,
            tax_code_id=code,
            tax=Money((line.amount.amount * Decimal(rate)).quantize(Decimal("0.01")), invoice.currency),
        )
        for line in invoice.lines
    ]
    return _relined(invoice, lines)


def _until_done(erp: OdooErp, invoice: Invoice, tries: int = 12) -> Any:
    """Post as the engine would: a transient failure (an uncertain write) is tried again."""
    import time

    last: Exception | None = None
    for _ in range(tries):
        try:
            return erp.post_invoice(invoice, "k")
        except TransientError as exc:
            last = exc
            time.sleep(0.3)
    raise AssertionError(f"never posted: {last}")


def test_finding_odoo_api_key_logs_in_only_over_jsonrpc(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Odoo 17 takes an API key only on ``/jsonrpc``; ``/web/session/authenticate`` wants the password.

    The old connector's default (and the example ``handoffs.yaml``) sent the API key to
    ``/web/session/authenticate``: every login was refused with AccessDenied. Now an API
    key is configured as one, needs ``mode: jsonrpc``, and logs in there; timeouts come
    from the options.
    """
    sim = OdooSim(seeds["odoo"], seed=5)
    url = serve(sim)
    entry = _api_key_entry(url)
    with pytest.raises(ValueError, match="only on /jsonrpc"):
        OdooConfig.from_entry(entry)
    entry["options"] = {"mode": "jsonrpc", "read_timeout": 7}
    config = OdooConfig.from_entry(entry)
    assert config.credential == "api_key" and config.read_timeout == 7
    companies = test_erps.odoo_config(url, seeds).companies
    erp = OdooErp(
        "odoo",
        dataclasses.replace(config, companies=companies),
        test_erps._mappings("odoo"),
        StoreLookups(firm_hub.engine),
    )
    assert erp.rpc.client.policy.read_timeout == 7
    invoice = firm_invoice(firm)
    erp.post_invoice(invoice, "k")
    assert [m["state"] for m in _moves(sim, invoice.id)] == ["posted"]
    session = test_erps.odoo_config(url, seeds, Secret(ODOO_API_KEY))
    refused = OdooErp("odoo", session, test_erps._mappings("odoo"), StoreLookups(firm_hub.engine))
    assert not refused.check().ok  # an API key is no password for a session login


def test_finding_odoo_lost_session_on_a_multi_database_server_logs_in_again(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """A server with several databases answers an expired session with an HTML 404.

    The old connector logged in again only on JSON-RPC error 100: the 404 was a terminal
    error and every delivery after the session ended became an exception.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path, multi_db=True)
    erp.post_invoice(firm_invoice(firm), "k")
    sim.expire_sessions()
    erp.post_invoice(firm_invoice(firm, "le-us"), "k2")
    assert erp.rpc.logins == 2


def test_finding_odoo_invoice_is_in_its_own_currency(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """A move without ``currency_id`` is in the company's currency.

    The old connector sent no currency: an invoice in another currency than its company's
    was booked in the company's currency, and nothing noticed.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = firm_invoice(firm)
    company = erp.setup.company(invoice.legal_entity_id)
    other = next(c for c in sim.store.tables["res.currency"].values() if c["name"] != invoice.currency)
    sim.store.tables["res.company"][company]["currency_id"] = other["id"]  # the company books in another
    erp.post_invoice(invoice, "k")
    [move] = _moves(sim, invoice.id)
    assert sim.store.tables["res.currency"][move["currency_id"]]["name"] == invoice.currency


def test_finding_odoo_taxes_come_from_the_invoice_company(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Lines carry taxes only through ``tax_ids`` of ``account.tax`` records of the move's company.

    The old connector sent no company: an invoice of any entity but the first went to
    company 1 with another company's tax, and Odoo refused it ("Incompatible companies").
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = _taxed(firm_invoice(firm, "le-uk"))
    assert invoice.tax.amount > 0
    erp.post_invoice(invoice, "k")
    [move] = _moves(sim, invoice.id)
    assert move["amount_tax"] == invoice.tax.amount and move["company_id"] != 1


def test_finding_odoo_read_back_difference_is_an_exception_with_both_figures(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """After posting, Odoo's own figures are read back and compared with the hub's.

    The old connector took ``action_post`` as the end: a tax set up at another rate in
    Odoo posted a different tax and total, and nothing noticed.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = _taxed(firm_invoice(firm, "le-uk"))
    tax_id = erp.setup.tax(str(invoice.lines[0].tax_code_id))
    sim.store.tables["account.tax"][tax_id]["amount"] = "17.5"
    with pytest.raises(TerminalError) as caught:
        erp.post_invoice(invoice, "k")
    message = str(caught.value)
    assert caught.value.category == "read_back" and "tax, total differ" in message
    assert f"hub currency {invoice.currency}" in message and f"tax {invoice.tax.amount}" in message
    [move] = _moves(sim, invoice.id)
    assert f"odoo currency {invoice.currency}" in message and f"tax {int(move['amount_tax'])}" in message


def test_finding_odoo_credit_note_is_an_out_refund_with_positive_lines(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Posting an ``out_invoice`` with a negative total is refused; a credit note is ``out_refund``.

    The old connector sent every document as ``out_invoice``: a credit note's negative
    lines were refused at posting ("You cannot validate an invoice with a negative total").
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = _taxed(firm_invoice(firm, "le-uk"))
    erp.post_invoice(invoice, "k")
    note = credit_note(
        credit_note_id=f"CN-{invoice.id}",
        invoice=invoice,
        ledger=BillingLedger.from_documents([invoice]),
        issue_date=date(2026, 5, 4),
        reason="wrong purchase order",
    )
    erp.post_invoice(note, "k2")
    [move] = _moves(sim, note.id)
    assert (move["move_type"], move["state"]) == ("out_refund", "posted")
    assert move["amount_total"] == -note.total.amount > 0
    assert all(line["price_subtotal"] > 0 for line in move["_lines"])
    assert erp.read_invoices([note.id])[note.id].total == -note.total.amount


def test_finding_odoo_rounded_quantity_never_changes_the_total(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Odoo rounds quantities (and unit prices) to 2 decimals, silently.

    The old connector sent 11.3333 hours: Odoo kept 11.33 and the invoice's total fell by
    half a unit, with no error. Now such a line goes as one unit at the line amount and its
    label says the hub's quantity and rate.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    base = firm_invoice(firm)
    line = base.lines[0]
    hours, rate = Decimal("11.3333"), Decimal("150.00")
    amount = Money((hours * rate).quantize(Decimal("0.01")), base.currency)
    odd = dataclasses.replace(
        line,
        quantity=hours,
        unit_price=Money(rate, base.currency),
        amount=amount,
        tax=Money(Decimal(0), base.currency),
        tax_code_id=None,
    )
    invoice = _relined(base, [odd, *base.lines[1:]])
    erp.post_invoice(invoice, "k")
    [move] = _moves(sim, invoice.id)
    assert move["amount_untaxed"] == invoice.subtotal.amount and move["amount_total"] == invoice.total.amount
    assert "11.3333 x 150.00" in move["_lines"][0]["name"]


def test_finding_odoo_amendment_updates_the_existing_record(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """An amended invoice rewrites the move it was posted as; it never makes a second one.

    The old connector found the first move by its ``ref`` and stopped: Odoo kept the old
    lines and total.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = firm_invoice(firm)
    first = erp.post_invoice(invoice, "k")
    amended = _relined(invoice, list(invoice.lines[:1]))
    again = erp.post_invoice(amended, "k2")
    [move] = _moves(sim, invoice.id)
    assert first.external_id == again.external_id and move["state"] == "posted"
    assert len(move["_lines"]) == 1 and move["amount_total"] == amended.total.amount


def test_finding_odoo_sequence_name_clash_is_tried_again(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Posting drafts from several workers at once can fail with "Another entry with the same
    name already exists."; trying again a moment later succeeds.

    The old connector took that error as terminal: the invoice became an exception.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path, sequence_clash_rate=1.0)
    invoice = firm_invoice(firm)
    sim.faults.settings = dataclasses.replace(sim.faults.settings, sequence_clash_rate=0.0)
    sim.store.moves.clash_next_post = True  # what the fault does: the next post clashes once
    erp.post_invoice(invoice, "k")
    assert [m["state"] for m in _moves(sim, invoice.id)] == ["posted"]


def test_finding_odoo_first_login_race_is_tried_again(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Two first logins at the same moment can fail on a unique constraint.

    The old connector took the failed login as terminal. (Seed 3: the first login loses
    the race, the second does not.)
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path, seed=3, login_race_rate=0.5)
    erp.post_invoice(firm_invoice(firm), "k")
    assert sim.faults.fired["login_race"] == 1 and erp.rpc.logins == 2


def test_finding_odoo_missing_product_and_analytic_rights_are_named_by_check(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """``product_id`` must exist (``MissingError``) and reading analytic plans needs accounting rights.

    The old connector's check only logged in: a missing product surfaced at the first
    invoice, and a user without accounting rights at the first contract.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path, product_id=99)
    sim.store.accounting_rights = False
    result = erp.check()
    assert not result.ok
    assert "product_id: product.product [99] MissingError" in result.detail
    assert "accounting rights" in result.detail
    with pytest.raises(TerminalError, match="MissingError"):
        erp.post_invoice(firm_invoice(firm), "k")
    sim.store.accounting_rights = True
    erp.config = dataclasses.replace(erp.config, product_id=1)
    erp.setup.config = erp.config
    assert erp.check().ok


def test_finding_odoo_slow_create_is_found_never_sent_twice(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """A create that outlives the client's timeout lands on the server after it gave up.

    The old connector searched at once, did not see it yet, and created it again: two
    invoices (and partners) for one. Now the write is uncertain: it is looked for by its
    ``ref`` until it shows up or the settle period is over.
    """
    sim, erp = _start(
        seeds,
        serve,
        firm_hub,
        tmp_path,
        policy=SHORT,
        settle_seconds=3.0,
        slow_write_rate=1.0,
        slow_write_seconds=0.8,
    )
    invoice = firm_invoice(firm)
    _until_done(erp, invoice)
    assert sim.faults.fired["slow_write"] >= 2
    assert len(_moves(sim, invoice.id)) == 1 and _moves(sim, invoice.id)[0]["state"] == "posted"
    partners = [p for p in sim.store.tables["res.partner"].values() if p.get("ref") == invoice.customer_id]
    assert len(partners) == 1 and erp.writes.found_after_uncertain >= 1


def test_finding_odoo_systems_check_proves_login_mode_and_setup(
    seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """``handoffs systems check`` refuses an API key for a session login and names what Odoo lacks.

    The old check sent the API key to ``/web/session/authenticate`` (refused there, with no
    hint why) and, logged in with a password, proved nothing of the setup.
    """
    import json

    import yaml
    from typer.testing import CliRunner

    from handoffs.cli.main import app as cli

    entry = {"role": "erp", "connector": "odoo", **_api_key_entry(serve(OdooSim(seeds["odoo"], seed=5)))}

    def check(options: dict[str, Any]) -> tuple[int, str]:
        path = tmp_path / "handoffs.yaml"
        path.write_text(yaml.safe_dump({"version": 1, "systems": {"odoo": {**entry, "options": options}}}))
        result = CliRunner().invoke(cli, ["systems", "check", "-f", str(path), "--json"])
        assert ODOO_API_KEY not in result.output
        return result.exit_code, json.loads(result.stdout)["systems"][0]["detail"]

    code, detail = check({"mode": "session"})
    assert code == 1 and "only on /jsonrpc" in detail
    code, detail = check({"mode": "jsonrpc", "product_id": 99, "taxes": {"tax-uk-std": 999}})
    assert code == 1 and "product.product [99]" in detail and "taxes.tax-uk-std" in detail
    code, detail = check({"mode": "jsonrpc", "taxes": {"tax-uk-std": 2}})
    assert code == 0 and "jsonrpc mode" in detail and "1 taxes" in detail


def test_finding_odoo_lines_carry_the_product_and_the_contract_analytic_link(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Every line names the configured service product and the contract's analytic account.

    The old connector sent no analytic distribution: invoiced revenue did not reach the
    contract's analytic account pushed before it.
    """
    from tests.connectors.test_erp_contracts import _metadata

    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = firm_invoice(firm)
    contract = next(c for c in firm.contracts if c.id == invoice.contract_id)
    account = erp.push_contract(_metadata(contract), "c")
    erp.post_invoice(invoice, "k")
    [move] = _moves(sim, invoice.id)
    assert {line["product_id"] for line in move["_lines"]} == {erp.config.product_id}
    assert all(line["analytic_distribution"] == {account.external_id: 100} for line in move["_lines"])


def test_finding_odoo_errors_are_classified_transient_or_terminal() -> None:
    """Serialization failures, concurrent updates, sequence clashes and login races are transient.

    The old connector made every JSON-RPC error terminal: a lock or a clash between two
    workers dead-lettered an invoice that a retry a moment later would have posted.
    """
    from handoffs.connectors.odoo.rpc import OdooBusy, OdooRpcError, rpc_failure

    def error(name: str, message: str) -> Exception:
        return rpc_failure({"code": 200, "data": {"name": name, "message": message}})

    busy = [
        error("psycopg2.errors.SerializationFailure", "could not serialize access due to concurrent update"),
        error("odoo.exceptions.ValidationError", "Another entry with the same name already exists."),
        error("psycopg2.errors.UniqueViolation", 'duplicate key value violates unique constraint "x"'),
        error("psycopg2.errors.LockNotAvailable", "could not obtain lock on row in relation account_move"),
    ]
    assert all(isinstance(e, OdooBusy) and isinstance(e, TransientError) for e in busy)
    for name in ("UserError", "ValidationError", "MissingError", "AccessError", "AccessDenied"):
        refused = error(f"odoo.exceptions.{name}", "refused")
        assert isinstance(refused, OdooRpcError) and not isinstance(refused, TransientError)
