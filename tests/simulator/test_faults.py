"""Every fault type, driven through HTTP, counted afterwards, and deterministic for a seed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from handoffs.simulator.faults import PROFILES, FaultSettings, fault_settings
from handoffs.simulator.systems.harvest import HarvestSim
from handoffs.simulator.systems.salesforce import SalesforceSim
from tests.simulator.test_harvest import HEADERS, _entries


def _get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{url}/v2/time_entries", headers=HEADERS, **kwargs)


def test_outage_window_answers_503_then_recovers(serve: Any) -> None:
    system = HarvestSim(_entries(3), outage_windows=((2, 3),))
    url = serve(system)
    codes = [_get(url).status_code for _ in range(4)]
    assert codes == [200, 503, 503, 200]
    assert system.faults.fired["outage"] == 2


def test_rate_limit_gives_429_with_retry_after(serve: Any) -> None:
    system = HarvestSim(_entries(3), rate_limit=(2, 60.0))
    url = serve(system)
    codes = [_get(url) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert 1 <= int(codes[2].headers["Retry-After"]) <= 60
    assert system.faults.fired["throttle"] == 1


def test_documented_limit_of_harvest_is_100_per_15_seconds() -> None:
    system = HarvestSim(_entries(1), faults="default")
    assert system.faults.rate_limit == (100, 15.0)


def test_salesforce_reports_its_request_limit_in_its_own_format(serve: Any) -> None:
    system = SalesforceSim({"Account": []}, throttle_rate=1.0)
    url = serve(system)
    response = httpx.get(f"{url}/services/data/v60.0/query", params={"q": "SELECT Id FROM Account"})
    assert response.status_code == 403
    assert response.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED" and "Retry-After" in response.headers


def test_latency_and_timeout(serve: Any) -> None:
    slow = HarvestSim(_entries(1), latency_rate=1.0, latency_ms=10)
    assert _get(serve(slow)).status_code == 200 and slow.faults.fired["latency"] == 1
    stuck = HarvestSim(_entries(1), timeout_rate=1.0, timeout_seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        _get(serve(stuck), timeout=0.1)
    assert stuck.faults.fired["timeout"] == 1


def test_lost_acknowledgement_applies_the_write_but_answers_504(serve: Any) -> None:
    system = HarvestSim(_entries(2), lost_ack_rate=1.0)
    url = serve(system)
    response = httpx.patch(f"{url}/v2/time_entries/1", json={"is_billed": True}, headers=HEADERS)
    assert response.status_code == 504
    assert system.entries[1]["is_billed"] is True
    assert system.faults.fired["lost_ack"] == 1 and len(system.received) == 1


def test_payload_faults_duplicate_malform_truncate_reorder_and_drift(serve: Any) -> None:
    settings = FaultSettings(
        duplicate_rate=0.3, malformed_rate=0.2, incomplete_rate=0.2, out_of_order_rate=0.3, schema_drift=True
    )
    system = HarvestSim(_entries(50), faults=settings, seed=3)
    rows = _get(serve(system)).json()["time_entries"]
    ids = [r["id"] for r in rows]
    fired = system.faults.fired
    assert len(ids) - len(set(ids)) == fired["duplicate"] > 0
    assert sum(1 for r in rows if r.get("hours_decimal") == "n/a") >= 1 and fired["malformed"] > 0
    assert sum(1 for r in rows if "spent_date" not in r) >= fired["incomplete"] > 0
    assert all("hours" not in r and r["approval_status"] == "approved" for r in rows)
    order = [(r.get("spent_date", ""), r["id"]) for r in rows if "spent_date" in r]
    assert order != sorted(order, reverse=True) and fired["out_of_order"] > 0


def test_faults_are_deterministic_for_a_seed(serve: Any) -> None:
    logs = []
    for _ in range(2):
        system = HarvestSim(_entries(30), faults="hostile", seed=9, timeout_rate=0.0, latency_rate=0.0)
        url = serve(system)
        for _ in range(15):
            _get(url)
        logs.append(system.faults.log)
    assert logs[0] == logs[1] and logs[0]


def test_profiles_and_overrides() -> None:
    assert set(PROFILES) == {"none", "default", "month-end", "hostile"}
    assert fault_settings("hostile", lost_ack_rate=0.0).lost_ack_rate == 0.0
    with pytest.raises(ValueError, match="unknown fault profile"):
        fault_settings("chaotic")
