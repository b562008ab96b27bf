"""The Harvest-like time tool over HTTP: headers, filters, pagination edges, PATCH."""

from __future__ import annotations

from typing import Any

import httpx

from handoffs.simulator.systems.harvest import HarvestSim

HEADERS = {
    "Authorization": "Bearer sim-harvest-token",
    "Harvest-Account-Id": "424242",
    "User-Agent": "Handoffs tests (dev@handoffs.invalid)",
}


def _entries(n: int) -> dict[str, list[dict[str, Any]]]:
    rows = [
        {
            "id": i,
            "spent_date": f"2025-03-{1 + i % 28:02d}",
            "hours": "1.5",
            "rounded_hours": "1.5",
            "is_locked": i % 2 == 0,
            "is_closed": i % 2 == 0,
            "is_billed": False,
            "is_running": False,
            "billable": True,
            "updated_at": f"2025-04-01T10:00:{i % 60:02d}Z",
            "notes": "x",
            "user": {"id": 7, "name": "A"},
            "client": {"id": 9, "name": "C"},
            "project": {"id": 3, "name": "P"},
        }
        for i in range(1, n + 1)
    ]
    return {"time_entries": rows, "users": [], "projects": [], "clients": []}


def test_required_headers_are_enforced(serve: Any) -> None:
    url = serve(HarvestSim(_entries(3)))
    assert httpx.get(f"{url}/v2/time_entries", headers={**HEADERS, "User-Agent": ""}).status_code == 400
    bad = httpx.get(f"{url}/v2/time_entries", headers={**HEADERS, "Harvest-Account-Id": "1"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"


def test_exact_multiple_of_page_size_ends_without_an_empty_page(serve: Any) -> None:
    url = serve(HarvestSim(_entries(200)))
    seen, next_url, pages = [], f"{url}/v2/time_entries?per_page=100", 0
    while next_url:
        body = httpx.get(next_url, headers=HEADERS).json()
        seen += [e["id"] for e in body["time_entries"]]
        next_url, pages = body["links"]["next"], pages + 1
    assert pages == 2 and sorted(seen) == list(range(1, 201))
    last = httpx.get(f"{url}/v2/time_entries?per_page=100&page=2", headers=HEADERS).json()
    assert last["next_page"] is None and last["previous_page"] == 1 and last["total_pages"] == 2
    beyond = httpx.get(f"{url}/v2/time_entries?per_page=100&page=3", headers=HEADERS).json()
    assert beyond["time_entries"] == [] and beyond["next_page"] is None


def test_empty_result_and_per_page_limits(serve: Any) -> None:
    url = serve(HarvestSim(_entries(5)))
    empty = httpx.get(f"{url}/v2/time_entries", params={"from": "2030-01-01"}, headers=HEADERS).json()
    assert empty["time_entries"] == [] and empty["total_entries"] == 0 and empty["links"]["next"] is None
    assert httpx.get(f"{url}/v2/time_entries?per_page=2000", headers=HEADERS).status_code == 200
    too_many = httpx.get(f"{url}/v2/time_entries?per_page=2001", headers=HEADERS)
    assert too_many.status_code == 422 and "per_page" in too_many.json()["message"]


def test_filters_and_json_numbers(serve: Any, seeds: Any) -> None:
    url = serve(HarvestSim(seeds["harvest"]))
    body = httpx.get(
        f"{url}/v2/time_entries", params={"from": "2025-03-10", "to": "2025-03-10"}, headers=HEADERS
    ).json()
    assert body["time_entries"] and {e["spent_date"] for e in body["time_entries"]} == {"2025-03-10"}
    assert isinstance(body["time_entries"][0]["hours"], float | int)
    since = httpx.get(
        f"{url}/v2/time_entries", params={"updated_since": "2099-01-01T00:00:00Z"}, headers=HEADERS
    ).json()
    assert since["total_entries"] == 0
    users = httpx.get(f"{url}/v2/users", headers=HEADERS).json()
    assert users["total_entries"] == 20 and users["users"][0]["weekly_capacity"] >= 32 * 3600


def test_patch_marks_billed_once_and_refuses_edits_to_locked_entries(serve: Any) -> None:
    system = HarvestSim(_entries(4))
    url = serve(system)
    ok = httpx.patch(f"{url}/v2/time_entries/2", json={"is_billed": True}, headers=HEADERS)
    assert ok.status_code == 200 and ok.json()["is_billed"] is True
    locked = httpx.patch(f"{url}/v2/time_entries/2", json={"hours": 3}, headers=HEADERS)
    assert locked.status_code == 422
    edit = httpx.patch(f"{url}/v2/time_entries/1", json={"hours": 3}, headers=HEADERS)
    assert edit.json()["hours"] == 3
    billed = httpx.get(f"{url}/v2/time_entries?is_billed=true", headers=HEADERS).json()
    assert [e["id"] for e in billed["time_entries"]] == [2]
    assert [r["operation"] for r in system.received] == ["patch_time_entry", "patch_time_entry"]
