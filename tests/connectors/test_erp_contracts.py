"""Contract metadata reaches NetSuite (a custom record) and Odoo (an analytic account) once,
however often it is sent, and an amendment updates the same record."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

from handoffs.bootstrap import App
from handoffs.connectors.fake.erp import FileErp, InMemoryErp
from handoffs.domain.codec import encode
from handoffs.domain.contracts import Contract
from handoffs.simulator.firm import Firm
from tests.connectors import test_erps

CONTRACT_RECORD = "customrecord_handoffs_contract"


def _metadata(contract: Contract) -> dict[str, Any]:
    return {k: v for k, v in encode(contract).items() if k not in ("rate_card", "installments", "milestones")}


def test_netsuite_upserts_the_contract_as_a_custom_record(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    sim, erp = test_erps.TestNetSuite().start(seeds, serve, firm_hub, tmp_path)
    contract = firm.contracts[0]
    first = erp.push_contract(_metadata(contract), "k1")
    again = erp.push_contract(_metadata(contract), "k1")  # a lost acknowledgement, sent again
    amended = dataclasses.replace(contract, end_date=contract.start_date + timedelta(days=400))
    later = erp.push_contract(_metadata(amended), "k2")
    assert first.external_id == again.external_id == later.external_id
    [record] = sim.records[CONTRACT_RECORD].values()
    customer = next(r for r in sim.records["customer"].values() if r["externalId"] == contract.customer_id)
    assert record["externalId"] == contract.id and record["name"] == contract.id
    assert record["custrecord_handoffs_customer"] == {"id": customer["id"]}
    currency = next(c for c in sim.records["currency"].values() if c["symbol"] == contract.currency)
    assert record["custrecord_handoffs_currency"] == {"id": currency["id"]}  # by internal id
    assert record["custrecord_handoffs_billing_model"] == contract.billing_model
    assert record["custrecord_handoffs_end_date"] == amended.end_date.isoformat()  # type: ignore[union-attr]


def test_odoo_creates_one_analytic_account_per_contract(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    sim, erp = test_erps.TestOdooJsonRpc().start(seeds, serve, firm_hub, tmp_path)
    contract = firm.contracts[0]
    refs = {erp.push_contract(_metadata(contract), f"k{n}").external_id for n in range(3)}
    [account] = sim.store.tables["account.analytic.account"].values()
    [partner] = sim.store.tables["res.partner"].values()
    assert refs == {str(account["id"])} and account["code"] == contract.id
    assert account["partner_id"] == partner["id"] and partner["ref"] == contract.customer_id
    assert account["plan_id"] == 1 and account["name"] == f"{contract.id} ({contract.billing_model})"


def test_the_fake_erps_keep_one_contract_per_id(firm: Firm, tmp_path: Path) -> None:
    contract = firm.contracts[0]
    for erp in (InMemoryErp(), FileErp(tmp_path / "erp.db")):
        first = erp.push_contract(_metadata(contract), "k1")
        assert erp.push_contract(_metadata(contract), "k2") == first
        held = erp.contracts if isinstance(erp, InMemoryErp) else erp.contracts()
        assert list(held) == [contract.id] and held[contract.id]["currency"] == contract.currency
