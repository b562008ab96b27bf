"""The Salesforce-like CRM over HTTP: OAuth, SOQL paging with nextRecordsUrl, upsert by external id."""

from __future__ import annotations

from typing import Any

import httpx

from handoffs.simulator.systems.salesforce import SalesforceSim

API = "/services/data/v60.0"


def _token(url: str) -> dict[str, str]:
    body = httpx.post(
        f"{url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sim-salesforce-client",
            "client_secret": "sim-salesforce-secret",
        },
    ).json()
    return {"Authorization": f"Bearer {body['access_token']}"}


def _accounts(n: int) -> dict[str, list[dict[str, Any]]]:
    return {
        "Account": [
            {
                "Id": f"001Sim{i:09d}AAA",
                "Name": f"A{i}",
                "External_Id__c": f"cust-{i}",
                "SystemModstamp": f"2025-03-{1 + i % 28:02d}T10:00:00.000+0000",
            }
            for i in range(1, n + 1)
        ],
        "Opportunity": [],
        "OpportunityLineItem": [],
    }


def test_token_endpoint_refuses_wrong_credentials_and_api_needs_the_bearer(serve: Any) -> None:
    url = serve(SalesforceSim(_accounts(1)))
    bad = httpx.post(
        f"{url}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"
    denied = httpx.get(f"{url}{API}/query", params={"q": "SELECT Id FROM Account"})
    assert denied.status_code == 401 and denied.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_query_pages_with_next_records_url_on_an_exact_multiple(serve: Any) -> None:
    url = serve(SalesforceSim(_accounts(400)))
    headers = {**_token(url), "Sforce-Query-Options": "batchSize=200"}
    first = httpx.get(
        f"{url}{API}/query", params={"q": "SELECT Id, Name FROM Account ORDER BY Name"}, headers=headers
    ).json()
    assert first["totalSize"] == 400 and first["done"] is False and len(first["records"]) == 200
    second = httpx.get(url + first["nextRecordsUrl"], headers=headers).json()
    assert second["done"] is True and "nextRecordsUrl" not in second and len(second["records"]) == 200
    ids = {r["Id"] for r in first["records"] + second["records"]}
    assert len(ids) == 400 and first["records"][0]["attributes"]["type"] == "Account"


def test_where_on_system_modstamp_and_empty_results(serve: Any, seeds: Any) -> None:
    url = serve(SalesforceSim(seeds["salesforce"]))
    headers = _token(url)
    q = (
        "SELECT Id, StageName, IsWon, IsClosed, CloseDate, Amount, Probability, SystemModstamp "
        "FROM Opportunity "
        "WHERE SystemModstamp >= 2025-03-01T00:00:00Z AND IsWon = false"
    )
    body = httpx.get(f"{url}{API}/query", params={"q": q}, headers=headers).json()
    assert body["done"] is True
    assert all(r["IsWon"] is False and r["SystemModstamp"] >= "2025-03-01" for r in body["records"])
    none = httpx.get(
        f"{url}{API}/query", params={"q": "SELECT Id FROM Account WHERE Name = 'nobody'"}, headers=headers
    ).json()
    assert none == {"totalSize": 0, "done": True, "records": []}
    bad = httpx.get(f"{url}{API}/query", params={"q": "SELECT Nope FROM Account"}, headers=headers)
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"
    malformed = httpx.get(f"{url}{API}/query", params={"q": "SELEKT Id"}, headers=headers)
    assert malformed.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_upsert_by_external_id_creates_updates_and_reports_ambiguity(serve: Any) -> None:
    data = _accounts(2)
    data["Account"][1]["External_Id__c"] = "cust-1"  # two records share one external id
    system = SalesforceSim(data)
    url = serve(system)
    headers = _token(url)
    created = httpx.patch(
        f"{url}{API}/sobjects/Account/External_Id__c/cust-9", json={"Name": "New"}, headers=headers
    )
    assert created.status_code == 201 and created.json()["created"] is True
    updated = httpx.patch(
        f"{url}{API}/sobjects/Account/External_Id__c/cust-9", json={"Name": "Newer"}, headers=headers
    )
    assert updated.status_code == 204
    read = httpx.get(f"{url}{API}/sobjects/Account/{created.json()['id']}", headers=headers).json()
    assert read["Name"] == "Newer"
    ambiguous = httpx.patch(
        f"{url}{API}/sobjects/Account/External_Id__c/cust-1", json={"Name": "X"}, headers=headers
    )
    assert ambiguous.status_code == 300 and len(ambiguous.json()) == 2
    assert [r["created"] for r in system.received] == [True, False]
