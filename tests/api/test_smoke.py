"""The happy path of each layer, in-process."""

from __future__ import annotations

from tests.api.conftest import Api


def test_read_upsert_approve_and_view(api: Api) -> None:
    r = api.get("/v1/system/objects/project/P-001")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["legal_entity_id"] == "LE-US"
    r = api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001", "TE-00000002"]})
    assert r.status_code == 200, r.text
    assert r.json()["approvals_published"] == 2
    r = api.get("/v1/experience/consultants/R-0001/timesheet")
    assert r.status_code == 200, r.text
    print(r.json())
    r = api.get("/v1/experience/kpis")
    assert r.status_code == 200, r.text
    print(r.json(), dict(r.headers))
