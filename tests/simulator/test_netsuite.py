"""The NetSuite-like ERP over HTTP: create, upsert by eid, record errors, and 202-then-poll;
then NetSuite's unkind behaviours: appended sublists, collapsed reads, idempotency keys,
expiring OAuth 2.0 tokens, references by internal id, external ids, slow writes."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from handoffs.simulator.systems.netsuite import NetSuiteSim
from handoffs.simulator.systems.netsuite_auth import NETSUITE_CERTIFICATE_ID, NETSUITE_CLIENT_ID, sim_key_pair

REC = "/services/rest/record/v1"
TOKEN = "/services/rest/auth/oauth2/v1/token"
SEEDS: dict[str, list[dict[str, Any]]] = {
    "subsidiary": [{"id": "1", "name": "Inc."}],
    "customer": [{"id": "1001", "companyName": "Acme", "subsidiary": {"id": "1"}}],
    "currency": [{"id": "7", "symbol": "USD"}],
    "serviceItem": [{"id": "10", "itemId": "Consulting services"}],
    "salestaxitem": [{"id": "5", "itemId": "VAT", "rate": "20"}],
}


def _assertion(url: str, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": NETSUITE_CLIENT_ID, "scope": "rest_webservices", "aud": url + TOKEN, "iat": now}
    payload = {**payload, "exp": now + 300, **claims}
    return jwt.encode(payload, sim_key_pair()[0], algorithm="ES256", headers={"kid": NETSUITE_CERTIFICATE_ID})


def _token(url: str, **claims: Any) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": _assertion(url, **claims),
    }
    return httpx.post(url + TOKEN, data=form)


def _serve(serve: Any, system: NetSuiteSim) -> str:
    """Serve ``system`` and authorise the module's headers ``H`` with a fresh access token."""
    url: str = serve(system)
    H["Authorization"] = f"Bearer {_token(url).json()['access_token']}"
    return url


H: dict[str, str] = {}
INVOICE = {
    "entity": {"id": "1001"},
    "externalId": "inv-1",
    "item": {"items": [{"item": {"id": "10"}, "quantity": 2, "rate": 150, "amount": 300}]},
}


def test_create_returns_204_with_location_and_duplicates_are_refused(serve: Any) -> None:
    system = NetSuiteSim(SEEDS)
    url = _serve(serve, system)
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
    system = NetSuiteSim(SEEDS)
    url = _serve(serve, system)
    for _ in range(2):
        response = httpx.put(f"{url}{REC}/invoice/eid:inv-1", json=INVOICE, headers=H)
        assert response.status_code == 204
    assert len(system.records["invoice"]) == 1
    entity = httpx.get(f"{url}{REC}/invoice/eid:inv-1", headers=H).json()["entity"]
    assert entity["id"] == "1001" and entity["refName"] == "Acme"


def test_record_validation_errors_name_the_path(serve: Any) -> None:
    url = _serve(serve, NetSuiteSim(SEEDS))
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
    system = NetSuiteSim(SEEDS, async_pending_polls=1)
    url = _serve(serve, system)
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
    system = NetSuiteSim(SEEDS, async_pending_polls=0)
    url = _serve(serve, system)
    accepted = httpx.post(
        f"{url}{REC}/job", json={"companyName": "P"}, headers={**H, "Prefer": "respond-async"}
    )
    job = httpx.get(url + accepted.headers["Location"], headers=H).json()
    assert job["progress"] == "failed"
    result = httpx.get(url + accepted.headers["Location"] + f"/task/{job['id']}/result", headers=H)
    assert result.status_code == 400 and result.json()["o:errorDetails"][0]["o:errorPath"] == "parent"


def test_non_keyed_sublists_are_appended_unless_replaced(serve: Any) -> None:
    system = NetSuiteSim(SEEDS)
    url = _serve(serve, system)
    for _ in range(2):
        httpx.put(f"{url}{REC}/invoice/eid:inv-1", json=INVOICE, headers=H)
    assert len(system.records["invoice"][next(iter(system.records["invoice"]))]["item"]["items"]) == 2
    httpx.put(f"{url}{REC}/invoice/eid:inv-1?replace=item", json=INVOICE, headers=H)
    [record] = system.records["invoice"].values()
    assert len(record["item"]["items"]) == 1 and record["total"] == 300


def test_get_collapses_sublists_unless_expanded(serve: Any) -> None:
    url = _serve(serve, NetSuiteSim(SEEDS))
    httpx.put(f"{url}{REC}/invoice/eid:inv-1", json=INVOICE, headers=H)
    plain = httpx.get(f"{url}{REC}/invoice/eid:inv-1", headers=H).json()
    assert list(plain["item"]) == ["links"]
    expanded = httpx.get(f"{url}{REC}/invoice/eid:inv-1?expandSubResources=true", headers=H).json()
    assert len(expanded["item"]["items"]) == 1


def test_a_repeated_idempotency_key_names_the_first_job(serve: Any) -> None:
    system = NetSuiteSim(SEEDS)
    url = _serve(serve, system)
    headers = {
        **H,
        "Prefer": "respond-async",
        "X-NetSuite-Idempotency-Key": "cac827ea-3543-4cda-add2-bae634326c27",
    }
    first = httpx.put(f"{url}{REC}/invoice/eid:inv-1", json=INVOICE, headers=headers)
    again = httpx.put(f"{url}{REC}/invoice/eid:inv-1", json=INVOICE, headers=headers)
    assert first.status_code == 202 and again.status_code == 400
    assert again.json()["o:errorDetails"][0]["o:errorCode"] == "IDEMPOTENCY_ERROR"
    assert again.headers["Location"] == first.headers["Location"] and len(system.jobs) == 1


def test_tokens_need_a_signed_assertion_and_expire(serve: Any) -> None:
    system = NetSuiteSim(SEEDS, token_lifetime_seconds=0.3)
    url = serve(system)
    assert _token(url, aud="https://elsewhere").status_code == 400
    assert _token(url, exp=int(time.time()) + 7200).status_code == 400  # more than 60 minutes
    token = _token(url).json()
    assert token["token_type"] == "bearer" and token["expires_in"] == "0"
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(f"{url}{REC}/customer/1001", headers=bearer).status_code == 200
    time.sleep(0.4)
    refused = httpx.get(f"{url}{REC}/customer/1001", headers=bearer)
    assert (
        refused.status_code == 401 and refused.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    )


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"currency": {"refName": "USD"}}, "currency"),
        ({"currency": {"id": "99"}}, "currency"),
        ({"entity": {"refName": "Acme"}}, "entity"),
    ],
)
def test_references_must_be_internal_ids(serve: Any, change: dict[str, Any], path: str) -> None:
    url = _serve(serve, NetSuiteSim(SEEDS))
    refused = httpx.put(f"{url}{REC}/invoice/eid:inv-1", json={**INVOICE, **change}, headers=H)
    detail = refused.json()["o:errorDetails"][0]
    assert (
        refused.status_code == 400
        and detail["o:errorCode"] == "INVALID_FLD_VALUE"
        and detail["o:errorPath"] == path
    )
    fine = httpx.put(f"{url}{REC}/invoice/eid:inv-1", json={**INVOICE, "currency": {"id": "7"}}, headers=H)
    assert fine.status_code == 204


def test_external_ids_hold_letters_digits_underscore_and_hyphen(serve: Any) -> None:
    url = _serve(serve, NetSuiteSim(SEEDS))
    refused = httpx.put(f"{url}{REC}/invoice/eid:inv.1", json=INVOICE, headers=H)
    assert refused.status_code == 400 and refused.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_ID"


def test_a_slow_write_lands_after_the_client_gave_up(serve: Any) -> None:
    system = NetSuiteSim(SEEDS, slow_write_rate=1.0, slow_write_seconds=0.6)
    url = _serve(serve, system)
    with pytest.raises(httpx.ReadTimeout):
        httpx.put(f"{url}{REC}/invoice/eid:inv-1", json=INVOICE, headers=H, timeout=0.2)
    assert system.records["invoice"] == {}  # not there yet when the client gives up
    for _ in range(50):
        if system.records["invoice"]:
            break
        time.sleep(0.05)
    assert len(system.records["invoice"]) == 1 and system.faults.fired["slow_write"] == 1
