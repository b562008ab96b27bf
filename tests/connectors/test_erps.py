"""NetSuite, Odoo (both RPC modes) and the legacy GL file drop pass the ERP conformance suite."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handoffs.bootstrap import App
from handoffs.connectors.csvdrop import LegacyGlConfig, LegacyGlErp
from handoffs.connectors.mapping import load_mapping
from handoffs.connectors.netsuite import NetSuiteConfig, NetSuiteErp
from handoffs.connectors.odoo import OdooConfig, OdooErp
from handoffs.connectors.registry import builtin_mapping
from handoffs.connectors.secrets import Secret
from handoffs.simulator.firm import Firm
from handoffs.simulator.systems.legacy_gl import LegacyGl
from handoffs.simulator.systems.netsuite import NetSuiteSim
from handoffs.simulator.systems.netsuite_auth import NETSUITE_CERTIFICATE_ID, NETSUITE_CLIENT_ID, sim_key_pair
from handoffs.simulator.systems.odoo import ODOO_DB, ODOO_LOGIN, ODOO_PASSWORD, OdooSim
from handoffs.sync import StoreLookups
from tests.connectors.conformance import ErpConformance
from tests.connectors.support import FAST, firm_invoice


def _wrong_key() -> str:
    """Another P-256 key: its assertions do not verify against the registered certificate."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem


def _mappings(kind: str) -> dict[str, Any]:
    path = builtin_mapping(kind)
    assert path is not None
    return dict(load_mapping(path).mappings)


def netsuite_config(url: str, key: str | None = None, **options: Any) -> NetSuiteConfig:
    """The simulated NetSuite's integration: client id, certificate id and its private key."""
    private = Secret(key or sim_key_pair()[0], "value:***")
    return NetSuiteConfig(url, NETSUITE_CLIENT_ID, NETSUITE_CERTIFICATE_ID, private, **options)


def odoo_config(url: str, seeds: Any, secret: Secret | None = None, **options: Any) -> OdooConfig:
    """The simulated Odoo's database, with each legal entity's company as ``options.companies``."""
    companies = {r["company_registry"]: r["id"] for r in seeds["odoo"]["res.company"]}
    secret = secret or Secret(ODOO_PASSWORD)
    return OdooConfig(url, ODOO_DB, ODOO_LOGIN, secret, companies=companies, **options)


class TestNetSuite(ErpConformance):
    def start(self, seeds: Any, serve: Any, hub: App, tmp_path: Path, **o: Any) -> tuple[Any, Any]:
        wrong = o.pop("wrong_secret", False)
        config_options = {k: o.pop(k) for k in ("settle_seconds", "respond_async") if k in o}
        policy = o.pop("policy", FAST)
        sim = NetSuiteSim(seeds["netsuite"], seed=5, async_pending_polls=2, **o)
        key = _wrong_key() if wrong else None
        config = netsuite_config(serve(sim), key, poll_interval=0.01, **config_options)
        return sim, NetSuiteErp(
            "netsuite", config, _mappings("netsuite"), StoreLookups(hub.engine), policy=policy
        )

    def posted(self, sim: Any, invoice_id: str) -> int:
        return sum(1 for r in sim.records["invoice"].values() if r.get("externalId") == invoice_id)

    def secret(self) -> str:
        return sim_key_pair()[0].splitlines()[1]

    def test_posting_polls_the_async_job(
        self, firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
    ) -> None:
        sim, erp = self.start(seeds, serve, firm_hub, tmp_path)
        invoice = firm_invoice(firm)
        ref = erp.post_invoice(invoice, "k")
        stored = sim.records["invoice"][ref.external_id]
        assert stored["externalId"] == invoice.id and len(stored["item"]["items"]) == len(invoice.lines)
        assert any(r["operation"] == "async_accepted" for r in sim.received)


class _Odoo(ErpConformance):
    mode = "session"

    def start(self, seeds: Any, serve: Any, hub: App, tmp_path: Path, **o: Any) -> tuple[Any, Any]:
        password = "wrong-secret-odoo" if o.pop("wrong_secret", False) else ODOO_PASSWORD
        fields = ("settle_seconds", "credential", "read_timeout", "product_id", "taxes", "analytic_plan_id")
        options = {k: o.pop(k) for k in fields if k in o}
        policy = o.pop("policy", FAST)
        sim = OdooSim(seeds["odoo"], **{"seed": 5, **o})
        config = odoo_config(serve(sim), seeds, Secret(password), mode=self.mode, **options)
        return sim, OdooErp("odoo", config, _mappings("odoo"), StoreLookups(hub.engine), policy=policy)

    def posted(self, sim: Any, invoice_id: str) -> int:
        return sum(1 for r in sim.store.tables["account.move"].values() if r.get("ref") == invoice_id)

    def secret(self) -> str:
        return ODOO_PASSWORD

    def test_the_invoice_is_posted_with_its_lines(
        self, firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
    ) -> None:
        sim, erp = self.start(seeds, serve, firm_hub, tmp_path)
        invoice = firm_invoice(firm)
        ref = erp.post_invoice(invoice, "k")
        move = sim.store.tables["account.move"][int(ref.external_id)]
        assert move["state"] == "posted" and len(move["invoice_line_ids"]) == len(invoice.lines)


class TestOdooSession(_Odoo):
    mode = "session"

    def test_session_mode_avoids_password_checks(
        self, firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
    ) -> None:
        sim, erp = self.start(seeds, serve, firm_hub, tmp_path)
        erp.post_invoice(firm_invoice(firm), "k")
        assert sim.slow_password_checks == 0 and erp.rpc.logins == 1


class TestOdooJsonRpc(_Odoo):
    mode = "jsonrpc"


class TestLegacyGl(ErpConformance):
    def start(self, seeds: Any, serve: Any, hub: App, tmp_path: Path, **o: Any) -> tuple[Any, Any]:
        if o.pop("wrong_secret", False):
            pytest.skip("a folder drop has no credential")
        sim = LegacyGl(seeds["legacy_gl"], tmp_path / "gl", seed=5, **o)
        sim.start_polling(0.02)
        self._sims.append(sim)
        config = LegacyGlConfig(sim.inbox, sim.outbox, wait_seconds=3, poll=0.01)
        return sim, LegacyGlErp("legacy_gl", config)

    @pytest.fixture(autouse=True)
    def _stop_polling(self) -> Any:
        self._sims: list[LegacyGl] = []
        yield
        for sim in self._sims:
            sim.stop()

    def posted(self, sim: Any, invoice_id: str) -> int:
        return len({r["batch"] for r in sim.posted if r["reference"] == invoice_id})

    def secret(self) -> str:
        return "no-secret-in-a-folder-drop"

    def test_the_journal_balances(
        self, firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
    ) -> None:
        sim, erp = self.start(seeds, serve, firm_hub, tmp_path)
        invoice = firm_invoice(firm)
        erp.post_invoice(invoice, "k")
        debits = sum(float(r["debit"] or 0) for r in sim.posted)
        assert sim.outcomes and debits == float(invoice.total.amount)


def test_netsuite_takes_jobs_and_balanced_journals_by_external_id(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    from handoffs.domain.billing import JournalEntry, JournalLine
    from handoffs.domain.money import Money

    sim, erp = TestNetSuite().start(seeds, serve, firm_hub, tmp_path)
    project = next(p for p in firm.projects if p.customer_id)
    job = erp.push_project(project)
    assert erp.push_project(project) == job
    assert sim.records["job"][job.external_id]["externalId"] == project.id

    def money(amount: str) -> Money:
        return Money(Decimal(amount), "USD")

    entry = JournalEntry(
        id="je-test-1",
        legal_entity_id="le-us",
        entry_date=date(2025, 3, 31),
        period="2025-03",
        currency="USD",
        lines=(
            JournalLine(account="1100", debit=money("120.50"), credit=money("0")),
            JournalLine(account="4000", debit=money("0"), credit=money("120.50")),
        ),
    )
    posted = erp.post_journal(entry)
    assert erp.post_journal(entry) == posted
    assert [r["externalId"] for r in sim.records["journalEntry"].values()] == ["je-test-1"]
