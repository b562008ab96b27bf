"""The NetSuite-like ERP over HTTP: create, upsert by eid, record errors, and 202-then-poll."""

from __future__ import annotations

from typing import Any

import httpx

from handoffs.simulator.systems.netsuite import NetSuiteSim

H = {"Authorization": "Bearer sim-netsuite-token"}
REC = "/services/rest/record/v1"
INVOICE = {
    "entity": {"id": "1001"},
    "externalId": "inv-1",
    "item": {"items": [{"item": {"id": "10"}, "quantity": 2, "rate": 150, "amount": 300}]},
}


def test_create_returns_204_with_location_and_duplicates_are_refused(serve: Any) -> None:
    system = NetSuiteSim({})
    url = serve(system)
    created = httpx.post(
        f"{url}{REC}/customer",
        json={"companyName": "Acme", "subsidiary": {"id": "1"}, "externalId": "cust-1"},
        headers=H,
    )
    assert created.status_code == 204 and created.headers["Location"].startswith(f"{REC}/customer/")
    record = httpx.get(url + created.headers["Location"], headers=H).json()
    assert record["externalId"] == "cust-1"
    again = httpx.post(
        f"{url}{REC}/customer",
        json={"companyName": "Acme", "subsidiary": {"id": "1"}, "externalId": "cust-1"},
        headers=H,
    )
    assert again.status_code == 400 and again.json()["o:errorDetails"][0]["o:errorCode"] == "USER_ERROR"
    assert (
        httpx.get(f"{url}{REC}/customer/1", headers={}).json()["o:errorDetails"][0]["o:errorCode"]
        == "INVALID_LOGIN"
    )


def test_upsert_by_external_id_is_idempotent(serve: Any) -> None:
    system = NetSuiteSim({})
    url = serve(system)
    for _ in range(2):
        response = httpx.put(f"{url}{REC}/invoice/eid:inv-1", json=INVOICE, headers=H)
        assert response.status_code == 204
    assert len(system.records["invoice"]) == 1
    assert httpx.get(f"{url}{REC}/invoice/eid:inv-1", headers=H).json()["entity"] == {"id": "1001"}


def test_record_validation_errors_name_the_path(serve: Any) -> None:
    url = serve(NetSuiteSim({}))
    bad = httpx.post(
        f"{url}{REC}/invoice", json={"entity": {"id": "1"}, "item": {"items": [{"amount": 1}]}}, headers=H
    )
    detail = bad.json()["o:errorDetails"][0]
    assert bad.status_code == 400 and detail["o:errorCode"] == "INVALID_CONTENT"
    assert detail["o:errorPath"] == "item.items[0]"
    unbalanced = {
        "subsidiary": {"id": "1"},
        "line": {"items": [{"account": {"id": "1"}, "debit": 10}, {"account": {"id": "2"}, "credit": 9}]},
    }
    assert "out of balance" in httpx.post(f"{url}{REC}/journalEntry", json=unbalanced, headers=H).text


def test_respond_async_answers_202_then_the_job_is_polled_to_its_outcome(serve: Any) -> None:
    system = NetSuiteSim({}, async_pending_polls=1)
    url = serve(system)
    accepted = httpx.post(f"{url}{REC}/invoice", json=INVOICE, headers={**H, "Prefer": "respond-async"})
    assert accepted.status_code == 202 and accepted.headers["Preference-Applied"] == "respond-async"
    job_url = url + accepted.headers["Location"]
    assert system.records["invoice"] == {}
    first = httpx.get(job_url, headers=H).json()
    assert first["completed"] is False and first["progress"] == "pending"
    second = httpx.get(job_url, headers=H).json()
    assert second["completed"] is True and second["progress"] == "succeeded"
    tasks = httpx.get(job_url + "/task", headers=H).json()
    result = httpx.get(url + tasks["items"][0]["links"][0]["href"].removeprefix(url) + "/result", headers=H)
    assert result.status_code == 200 and result.json()["id"] in system.records["invoice"]


def test_an_async_job_can_fail_with_the_record_error(serve: Any) -> None:
    system = NetSuiteSim({}, async_pending_polls=0)
    url = serve(system)
    accepted = httpx.post(
        f"{url}{REC}/job", json={"companyName": "P"}, headers={**H, "Prefer": "respond-async"}
    )
    job = httpx.get(url + accepted.headers["Location"], headers=H).json()
    assert job["progress"] == "failed"
    result = httpx.get(url + accepted.headers["Location"] + f"/task/{job['id']}/result", headers=H)
    assert result.status_code == 400 and result.json()["o:errorDetails"][0]["o:errorPath"] == "parent"
