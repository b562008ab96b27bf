"""Finding 2: where a record came from, and its version, are the hub's to say, never the body's."""

from __future__ import annotations

import time
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from handoffs.api import ApiSettings, create_app
from handoffs.flows.ingest import SourceRecord, ingest_records
from tests.api.conftest import Api, make_key, seed
from tests.api.test_webhooks_in import _secret, _send
from tests.policies.support import example_book, hub_on

ENTRY = "TE-00000003"  # stored from the timesheets system at source version 1


def _stored(api: Api, type_: str, id_: str) -> dict[str, object]:
    r = api.get(f"/v1/system/objects/{type_}/{id_}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _entry(api: Api, **changes: object) -> dict[str, object]:
    data = dict(_stored(api, "time_entry", ENTRY)["data"])  # type: ignore[call-overload]
    return {"type": "time_entry", **data, **changes}


def _from_timesheets(api: Api, version: str, **changes: object) -> dict[str, int]:
    data = _entry(api, **changes) | {"source_system": "timesheets", "source_version": version}
    item = SourceRecord(f"timesheets {ENTRY}", orjson.dumps(data).decode(), data)
    return dict(ingest_records([item], api.hub.uow, api.hub.ports, source="timesheets").outcomes)


@pytest.mark.parametrize("claim", [{"source_system": "handoffs"}, {"source_version": 10**12}])
def test_finding_2_an_api_body_naming_its_provenance_is_refused(api: Api, claim: dict[str, object]) -> None:
    r = api.post("/v1/system/objects", {"records": [_entry(api, notes="forged") | claim]}, api.us)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert next(iter(claim)) in r.text
    stored = _stored(api, "time_entry", ENTRY)
    assert stored["source_system"] == "timesheets" and stored["source_version"] == "1"
    schema = api.app.openapi()["components"]["schemas"]["RecordIn"]
    assert "source_version" not in schema["properties"] and "not" in schema  # the spec says so too


def test_finding_2_the_hub_versions_an_api_write_and_the_owner_still_wins(api: Api) -> None:
    r = api.post("/v1/system/objects", {"records": [_entry(api, notes="from the portal")]}, api.us)
    assert r.status_code == 200 and r.json()["outcomes"] == {"updated": 1}, r.text
    stored = _stored(api, "time_entry", ENTRY)
    assert stored["source_system"] == "api:us-portal"  # the caller, whatever the body says
    assert stored["source_version"] == "1"  # the hub's: the write does not raise the bar
    assert _from_timesheets(api, "1", notes="an old delivery, again") == {"stale": 1}
    assert _from_timesheets(api, "2", notes="edited in the timesheets system") == {"updated": 1}
    stored = _stored(api, "time_entry", ENTRY)
    assert stored["data"]["notes"] == "edited in the timesheets system"  # type: ignore[index]
    assert stored["source_system"] == "timesheets" and stored["source_version"] == "2"


@pytest.fixture
def policy_api(database_url: str) -> Iterator[Api]:
    """The API of a hub under the example policies: the timesheets system owns time entries."""
    hub = hub_on(database_url, example_book())
    hub.ports.erps.clear()
    seed(hub)
    admin = make_key(hub, "admin", rate=1000, burst=1000)
    us = make_key(hub, "us-portal", entities=["LE-US"], rate=1000, burst=1000)
    with TestClient(create_app(hub, ApiSettings()), raise_server_exceptions=False) as http:
        yield Api(hub, http.app, http, admin, us)  # type: ignore[arg-type]
    hub.close()


def test_finding_2_the_ownership_screen_sees_the_caller_not_the_claim(policy_api: Api) -> None:
    api = policy_api
    posing = _entry(api, hours="9") | {"source_system": "timesheets"}
    assert api.post("/v1/system/objects", {"records": [posing]}, api.us).status_code == 422
    r = api.post("/v1/system/objects", {"records": [_entry(api, hours="9")]}, api.us)
    assert r.status_code == 200 and r.json()["outcomes"] == {"rejected": 1}, r.text
    assert _stored(api, "time_entry", ENTRY)["data"]["hours"] == "1.75"  # type: ignore[index]
    with api.hub.uow() as uow:
        [problem] = [x for x in uow.exceptions.list(category="ownership") if x.object_id == ENTRY]
    assert problem.detail["system"] == "api:us-portal"


def test_finding_2_a_webhook_record_is_its_systems(api: Api) -> None:
    secret = _secret(api)
    record = {
        "type": "customer",
        "id": "C-001",
        "name": "Posing",
        "legal_entity_id": "LE-US",
        "currency": "USD",
    }
    posing = orjson.dumps({"records": [record | {"source_system": "handoffs"}]})
    r = _send(api, posing, "d-p1", secret)
    assert r.status_code == 422 and "source_system" in r.json()["detail"], r.text
    honest = orjson.dumps({"records": [record | {"name": "Renamed", "source_version": int(time.time())}]})
    assert _send(api, honest, "d-p2", secret).status_code == 200
    stored = _stored(api, "customer", "C-001")
    assert stored["source_system"] == "harvest" and stored["data"]["name"] == "Renamed"  # type: ignore[index]


def test_finding_2_a_corrected_api_record_is_judged_again(policy_api: Api) -> None:
    """Without a version of its own, a client's fixed record still gets a fresh policy decision."""
    api = policy_api
    expense = {
        "type": "expense",
        "id": "EX-1",
        "resource_id": "R-0001",
        "project_id": "P-001",
        "incurred_on": "2026-01-20",
        "category": "travel",
        "amount": {"amount": "120.00", "currency": "USD"},
        "has_receipt": False,
        "status": "approved",
    }
    r = api.post("/v1/system/objects", {"records": [expense]}, api.us)
    assert r.status_code == 200 and r.json()["outcomes"] == {"rejected": 1}, r.text  # no receipt
    r = api.post("/v1/system/objects", {"records": [expense | {"has_receipt": True}]}, api.us)
    assert r.status_code == 200 and r.json()["outcomes"] == {"inserted": 1}, r.text
    with api.hub.uow() as uow:
        [raised] = [x for x in uow.exceptions.list(category="validation") if x.object_id == "EX-1"]
    assert raised.state == "resolved"  # superseded by the corrected record
