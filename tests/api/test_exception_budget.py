"""Finding 13: one client cannot flood the firm's exception queue, and its exceptions are scoped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from handoffs.api import ApiSettings, create_app
from tests.api.conftest import Api, make_key

GOOD = {"type": "customer", "id": "C-001", "name": "Renamed", "legal_entity_id": "LE-US", "currency": "USD"}


def bad(n: int) -> dict[str, str]:
    """A customer the canonical model refuses (a lower-case currency): a validation exception."""
    return {"type": "customer", "id": f"C-B{n}", "name": "x", "legal_entity_id": "LE-US", "currency": "usd"}


def _open(api: Api) -> int:
    with api.hub.uow() as uow:
        return len(uow.exceptions.list())


@pytest.fixture
def tight(api: Api) -> Iterator[Api]:
    """The same hub behind an API whose clients may raise three exceptions an hour."""
    app = create_app(api.hub, ApiSettings(exception_budget=3, exception_window=3600))
    with TestClient(app, raise_server_exceptions=False) as http:
        yield Api(api.hub, app, http, api.admin, api.us)


def test_finding_13_a_client_past_its_exception_budget_is_refused_with_429(tight: Api) -> None:
    api = tight
    r = api.post("/v1/system/objects", {"records": [bad(1), bad(2), bad(3)]}, api.us)
    assert r.status_code == 200 and r.json()["failed"] == 3, r.text
    held = _open(api)
    r = api.post("/v1/system/objects", {"records": [GOOD, bad(4)]}, api.us)
    assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json", r.text
    assert 1 <= int(r.headers["Retry-After"]) <= 3600
    assert _open(api) == held  # refused whole: no exception, and the good record is not stored
    assert api.get("/v1/system/objects/customer/C-001").json()["data"]["name"] != "Renamed"
    assert api.post("/v1/system/objects", {"records": [bad(1)]}, api.us).status_code == 200  # a repeat
    assert api.post("/v1/system/objects", {"records": [GOOD]}, api.us).status_code == 200  # good records
    other = make_key(api.hub, "us-other", entities=["LE-US"], rate=1000, burst=1000)
    assert api.post("/v1/system/objects", {"records": [bad(5)]}, other).status_code == 200  # per client


def test_finding_13_exceptions_a_scoped_client_raises_carry_its_entity(api: Api) -> None:
    r = api.post("/v1/system/objects", {"records": [bad(1)]}, api.us)
    assert r.status_code == 200 and r.json()["failed"] == 1, r.text
    with api.hub.uow() as uow:
        [raised] = [x for x in uow.exceptions.list() if x.source == "api:us-portal"]
    assert raised.legal_entity_id == "LE-US"
    uk = make_key(api.hub, "uk-portal", entities=["LE-UK"], rate=1000, burst=1000)
    path = f"/v1/process/exceptions/{raised.id}/ignore"
    assert api.post(path, {"reason": "not mine"}, uk).status_code == 404
    r = api.post(path, {"reason": "sent by mistake"}, api.us)
    assert r.status_code == 200 and r.json()["state"] == "ignored", r.text
