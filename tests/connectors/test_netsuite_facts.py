"""NetSuite as it really behaves, one fact per test, over HTTP against the strict simulator.

Each test names what the connector of commit 56e78c4 did; each fails on that connector.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from handoffs.bootstrap import App
from handoffs.cli.main import app as cli
from handoffs.connectors.http import HttpPolicy, dumps
from handoffs.engine.errors import TerminalError, TransientError, Uncertain
from handoffs.simulator.firm import Firm
from handoffs.simulator.systems.netsuite_auth import NETSUITE_CERTIFICATE_ID, NETSUITE_CLIENT_ID, sim_key_pair
from tests.connectors import test_erps
from tests.connectors.support import firm_invoice
from tests.connectors.test_erp_readback import _journal

SHORT = HttpPolicy(connect_timeout=2, read_timeout=0.3, attempts=3, backoff=0.01, max_wait=1.0)


def _start(seeds: Any, serve: Any, hub: App, tmp_path: Path, **o: Any) -> tuple[Any, Any]:
    return test_erps.TestNetSuite().start(seeds, serve, hub, tmp_path, **o)


def _records(sim: Any, kind: str, external_id: str) -> list[dict[str, Any]]:
    return [r for r in sim.records[kind].values() if r.get("externalId") == external_id]


def _sent(sim: Any, operation: str, kind: str = "invoice") -> int:
    return sum(1 for r in sim.received if r["operation"] == operation and r.get("type") == kind)


def test_finding_netsuite_sublists_are_replaced_never_appended(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """NetSuite appends a non-keyed sublist on every update unless ``?replace=item``/``line``.

    The old connector sent ``PUT invoice/eid:…`` without ``replace``: the second send of the
    same invoice (a retry, a lost acknowledgement) doubled its lines, and an amendment added
    its lines to the old ones.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = firm_invoice(firm)
    erp.post_invoice(invoice, "k")
    erp.post_invoice(invoice, "k")
    [record] = _records(sim, "invoice", invoice.id)
    assert len(record["item"]["items"]) == len(invoice.lines)
    amended = dataclasses.replace(
        invoice,
        lines=invoice.lines[:1],
        subtotal=invoice.lines[0].amount,
        tax=invoice.lines[0].tax,
        total=invoice.lines[0].amount + invoice.lines[0].tax,
    )
    erp.post_invoice(amended, "k2")
    [record] = _records(sim, "invoice", invoice.id)
    assert [line["custcol_handoffs_line"] for line in record["item"]["items"]] == [invoice.lines[0].id]
    entry = _journal("1500.00")
    erp.post_journal(entry, "j")
    erp.post_journal(entry, "j")
    [journal] = _records(sim, "journalEntry", entry.id)
    assert len(journal["line"]["items"]) == 2


def test_finding_netsuite_read_back_difference_is_an_exception_with_both_figures(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Every confirmed posting is read back (lines expanded) and compared with the hub's figures.

    The old connector took NetSuite's 204 as the end: a tax code set up at another rate in
    NetSuite posted a different tax and total, and nothing noticed.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = firm_invoice(firm, "le-uk")
    code = next(
        t for t in sim.records["salestaxitem"].values() if t["itemId"] == invoice.lines[0].tax_code_id
    )
    code["rate"] = "17.5"  # NetSuite's tax code differs from the hub's
    with pytest.raises(TerminalError) as caught:
        erp.post_invoice(invoice, "k")
    message = str(caught.value)
    assert caught.value.category == "read_back" and "tax, total differ" in message
    assert f"hub currency {invoice.currency}" in message and f"tax {invoice.tax.amount}" in message
    held = _records(sim, "invoice", invoice.id)[0]
    assert held["taxTotal"] > 0 and f"netsuite currency {invoice.currency}" in message
    assert f"tax {int(held['taxTotal'])}." in message and f"total {int(held['total'])}." in message


def test_finding_netsuite_get_collapses_sublists_unless_expanded(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """``GET`` returns sublists as links unless ``expandSubResources=true``.

    The old connector read ``item.items`` from a plain GET, found no lines, and read back a
    net of 0 for every invoice.
    """
    _sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = firm_invoice(firm)
    erp.post_invoice(invoice, "k")
    plain = erp.get("invoice", f"eid:{invoice.id}", expand=False)
    assert "items" not in plain["item"] and plain["item"]["links"]
    held = erp.read_invoices([invoice.id])[invoice.id]
    assert held.net == invoice.subtotal.amount and len(held.lines or {}) == len(invoice.lines)


def test_finding_netsuite_access_tokens_expire_and_are_renewed(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Access tokens come from the OAuth 2.0 token endpoint for a signed JWT assertion, and expire.

    The old connector sent one fixed bearer token: NetSuite issues none such, and once a
    token expired every call was refused with 401.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path, token_lifetime_seconds=0.5)
    erp.auth.leeway = 0.0
    invoice = firm_invoice(firm)
    erp.post_invoice(invoice, "k")
    old = next(iter(sim.tokens.tokens))  # every token issued so far expires within 0.5 s
    time.sleep(0.6)  # the token has expired
    url = f"{erp.config.base_url}/services/rest/record/v1/invoice/eid:{invoice.id}"
    assert httpx.get(url, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    erp.post_invoice(firm_invoice(firm, "le-us"), "k2")
    sim.tokens.tokens.clear()  # revoked: the next call gets 401, fetches a new token once
    assert list(erp.read_invoices([invoice.id])) == [invoice.id]
    assert sim.tokens.issued >= 3


def test_finding_netsuite_async_job_is_polled_again_never_resent(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """A job can take minutes: a retry polls the job it already has instead of sending again.

    The old connector gave up polling with a transient error and, on the retry, sent the
    invoice again as a second job (and, with the lines appended, a doubled invoice).
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = firm_invoice(firm)
    erp.ensure_customer(invoice.customer_id, invoice.legal_entity_id)
    erp.config = dataclasses.replace(erp.config, max_polls=2)
    sim.async_pending_polls = 50  # the invoice's job runs for minutes
    with pytest.raises(TransientError, match="still pending"):
        erp.post_invoice(invoice, "netsuite:invoice:X")
    sim.async_pending_polls = 0
    ref = erp.post_invoice(invoice, "netsuite:invoice:X")
    assert _sent(sim, "async_accepted") == 1 and _sent(sim, "idempotent_repeat") == 0
    assert [r["id"] for r in _records(sim, "invoice", invoice.id)] == [ref.external_id]


def test_finding_netsuite_idempotency_key_makes_a_resent_async_request_safe(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """``X-NetSuite-Idempotency-Key``: the same asynchronous request again names the first job.

    The old connector sent no idempotency key: when the 202 was lost it sent the write again
    and NetSuite ran two jobs.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path, settle_seconds=0)
    invoice = firm_invoice(firm)
    erp.ensure_customer(invoice.customer_id, invoice.legal_entity_id)
    sim.faults.settings = dataclasses.replace(sim.faults.settings, lost_ack_rate=1.0)
    with pytest.raises(Uncertain):
        erp.post_invoice(invoice, "netsuite:invoice:Y")  # accepted as a job, the 202 lost
    sim.faults.settings = dataclasses.replace(sim.faults.settings, lost_ack_rate=0.0)
    erp.post_invoice(invoice, "netsuite:invoice:Y")
    assert _sent(sim, "async_accepted") == 1 and _sent(sim, "idempotent_repeat") == 1
    assert len(_records(sim, "invoice", invoice.id)) == 1


def test_finding_netsuite_references_are_written_by_internal_id(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """References are written by internal id; NetSuite refuses a name (``refName`` is read-only).

    The old connector wrote the currency, the journal's accounts and period by name
    (``refName``): NetSuite refused every invoice and journal entry with INVALID_FLD_VALUE.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = firm_invoice(firm, "le-uk")
    erp.post_invoice(invoice, "k")
    [record] = _records(sim, "invoice", invoice.id)
    gbp = next(c["id"] for c in sim.records["currency"].values() if c["symbol"] == "GBP")
    assert record["currency"] == {"id": gbp} and all("id" in x["taxCode"] for x in record["item"]["items"])
    entry = _journal("10.00")
    erp.post_journal(entry, "j")
    [journal] = _records(sim, "journalEntry", entry.id)
    assert all(set(line["account"]) == {"id"} for line in journal["line"]["items"])
    by_name = dict(record, currency={"refName": "GBP"})
    del by_name["id"]
    refused = erp.client.request(
        "PUT", "/services/rest/record/v1/invoice/eid:by-name", content=dumps(by_name), accept=(400,)
    )
    assert refused.status_code == 400 and b"INVALID_FLD_VALUE" in refused.content
    unknown = dataclasses.replace(
        entry, id="JE-XX", lines=tuple(dataclasses.replace(x, account="9999") for x in entry.lines)
    )
    with pytest.raises(TerminalError, match="no account with acctNumber '9999'"):
        erp.post_journal(unknown, "j2")


def test_finding_netsuite_external_ids_are_checked_before_sending(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """NetSuite external ids hold letters, digits, ``_`` and ``-`` only.

    The old connector sent the hub's id as it was: an id with ``.`` or ``:`` (allowed in the
    hub) was refused, and the invoice never reached NetSuite.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path)
    invoice = dataclasses.replace(firm_invoice(firm), id="INV.2025:03/7")
    ref = erp.post_invoice(invoice, "k")
    again = erp.post_invoice(invoice, "k")
    [record] = [r for r in sim.records["invoice"].values() if r["id"] == ref.external_id]
    assert again == ref and record["externalId"].startswith("INV_2025_03_7-")
    assert list(erp.read_invoices([invoice.id])) == [invoice.id]


def test_finding_netsuite_a_write_landing_after_the_timeout_is_found_not_resent(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """A write that completes on the server after the client gave up is found, never sent twice.

    The old connector retried the timed-out ``PUT`` at once: the slow write and the retry
    both landed, and (lines appended) the invoice held its lines twice.
    """
    sim, erp = _start(
        seeds, serve, firm_hub, tmp_path, respond_async=False, slow_write_seconds=0.8, policy=SHORT
    )
    invoice = firm_invoice(firm)
    erp.ensure_customer(invoice.customer_id, invoice.legal_entity_id)
    sim.faults.settings = dataclasses.replace(sim.faults.settings, slow_write_rate=1.0)
    with pytest.raises(Uncertain):
        erp.post_invoice(invoice, "netsuite:invoice:Z")
    sim.faults.settings = dataclasses.replace(sim.faults.settings, slow_write_rate=0.0)
    ref = erp.post_invoice(invoice, "netsuite:invoice:Z")  # looks it up (with backoff) first
    assert _sent(sim, "upsert") == 1 and erp.writes.found_after_uncertain == 1
    [record] = _records(sim, "invoice", invoice.id)
    assert record["id"] == ref.external_id and len(record["item"]["items"]) == len(invoice.lines)


def test_finding_netsuite_an_unanswered_write_is_sent_again_only_after_settling(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Until the settle period has passed, an unanswered write is looked for, not sent again.

    The old connector sent it again at once; here the write never happened (a 503), so after
    the settle period it is sent once more and NetSuite holds exactly one invoice.
    """
    sim, erp = _start(seeds, serve, firm_hub, tmp_path, respond_async=False, settle_seconds=0.6)
    invoice = firm_invoice(firm)
    erp.post_invoice(dataclasses.replace(invoice, id=f"{invoice.id}-A"), "a")  # its references known
    sim.faults.settings = dataclasses.replace(sim.faults.settings, outage_rate=1.0)
    with pytest.raises(Uncertain):
        erp.post_invoice(invoice, "netsuite:invoice:W")
    sim.faults.settings = dataclasses.replace(sim.faults.settings, outage_rate=0.0)
    erp.writes.policy = dataclasses.replace(erp.writes.policy, checks=1)
    with pytest.raises(TransientError, match="not there yet"):
        erp.post_invoice(invoice, "netsuite:invoice:W")  # looked for; not sent
    assert _sent(sim, "upsert") == 1  # the first invoice only
    time.sleep(0.7)  # the settle period passes
    erp.post_invoice(invoice, "netsuite:invoice:W")
    assert _sent(sim, "upsert") == 2 and len(_records(sim, "invoice", invoice.id)) == 1


def test_finding_netsuite_systems_check_proves_the_setup(
    firm_hub: App, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """``handoffs systems check`` gets a token and resolves every configured reference by id.

    The old check only probed the record API with a fixed token: a missing currency or tax
    code showed up only when postings were refused.
    """
    _sim, erp = _start(seeds, serve, firm_hub, tmp_path)

    def config(references: dict[str, list[str]]) -> Path:
        entry = {
            "role": "erp",
            "connector": "netsuite",
            "base_url": erp.config.base_url,
            "credentials": {
                "client_id": f"value:{NETSUITE_CLIENT_ID}",
                "certificate_id": NETSUITE_CERTIFICATE_ID,
                "private_key": f"value:{sim_key_pair()[0]}",
            },
            "options": {"references": references, "tax_codes": {"UK VAT": "tax-uk-std"}},
        }
        path = tmp_path / "handoffs.yaml"
        path.write_text(yaml.safe_dump({"version": 1, "systems": {"netsuite": entry}}), encoding="utf-8")
        return path

    good = config({"currency": ["USD", "GBP"], "salestaxitem": ["UK VAT"], "subsidiary": ["1"]})
    result = CliRunner().invoke(cli, ["systems", "check", "-f", str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert "4 references found by id" in json.loads(result.stdout)["systems"][0]["detail"]
    bad = config({"currency": ["USD", "XYZ"], "salestaxitem": ["tax-none"]})
    result = CliRunner().invoke(cli, ["systems", "check", "-f", str(bad), "--json"])
    assert result.exit_code == 1
    detail = json.loads(result.stdout)["systems"][0]["detail"]
    assert "currency XYZ" in detail and "salestaxitem tax-none" in detail
    assert "BEGIN PRIVATE KEY" not in result.output


def test_finding_netsuite_two_workers_posting_at_once_leave_one_record(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Two workers posting the same invoice at once upsert one external id: one record.

    (The old connector upserted too, but appended the lines: the invoice held them twice.)
    """
    import threading

    sim, first = _start(seeds, serve, firm_hub, tmp_path, latency_rate=1.0, latency_ms=50)
    # A second connector on the same NetSuite, as another worker holds.
    _, other = _start(seeds, lambda _sim: first.config.base_url, firm_hub, tmp_path)
    invoice = firm_invoice(firm)
    refs: list[Any] = []
    threads = [
        threading.Thread(target=lambda e=e: refs.append(e.post_invoice(invoice, "netsuite:invoice:V")))
        for e in (first, other)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(refs) == 2 and refs[0] == refs[1]
    [record] = _records(sim, "invoice", invoice.id)
    assert len(record["item"]["items"]) == len(invoice.lines)


def test_finding_netsuite_read_back_difference_reaches_the_exceptions_queue(
    any_db_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    """Through the worker: the delivery fails and its exception holds the hub's and NetSuite's figures.

    The old connector confirmed the delivery and marked the invoice posted.
    """
    from datetime import UTC, datetime

    from handoffs.domain.messages import PostInvoice

    sim, erp = _start(seeds, serve, any_db_hub, tmp_path)
    invoice = firm_invoice(firm, "le-uk")
    code = next(
        t for t in sim.records["salestaxitem"].values() if t["itemId"] == invoice.lines[0].tax_code_id
    )
    code["rate"] = "17.5"
    any_db_hub.ports.erps["netsuite"] = erp
    key = f"netsuite:invoice:{invoice.id}"
    with any_db_hub.uow() as uow:
        uow.invoices.add(invoice, "corr-1")
        uow.deliveries.ensure(key, "netsuite", "post_invoice", "invoice", invoice.id)
        uow.publish(
            PostInvoice(
                message_id="post-1",
                occurred_at=datetime(2025, 4, 1, tzinfo=UTC),
                correlation_id="corr-1",
                invoice_id=invoice.id,
                system="netsuite",
            )
        )
        uow.commit()
    any_db_hub.worker().run(until_idle=True)
    with any_db_hub.uow() as uow:
        [problem] = [p for p in uow.exceptions.list() if p.consumer == "time-to-invoice.post"]
        assert uow.invoices.status(invoice.id) == "delivery_failed"
        assert uow.deliveries.get(key).status != "confirmed"
    assert problem.category == "read_back" and invoice.id in problem.raw
    assert f"hub currency {invoice.currency}" in problem.reason and "netsuite currency" in problem.reason
