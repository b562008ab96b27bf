"""The Workday-like report and the expense tool over HTTP, including webhook duplicates."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from fastapi import FastAPI, Request

from handoffs.simulator.systems.expenses import ExpenseSim
from handoffs.simulator.systems.workday import WorkdaySim

REPORT = "/ccx/service/customreport2/firm_sim1/ISU_Handoffs/Handoffs_Workers"
AUTH = ("ISU_Handoffs@firm_sim1", "sim-workday-password")
KEY = {"X-Api-Key": "sim-expenses-key"}


def test_workday_report_needs_basic_auth_and_json_format(serve: Any, seeds: Any) -> None:
    url = serve(WorkdaySim(seeds["workday"]))
    assert httpx.get(f"{url}{REPORT}?format=json").status_code == 401
    assert httpx.get(f"{url}{REPORT}?format=csv", auth=AUTH).status_code == 400
    rows = httpx.get(f"{url}{REPORT}?format=json", auth=AUTH).json()["Report_Entry"]
    assert len(rows) == 20
    assert {
        "Employee_ID",
        "Cost_Rate",
        "Currency",
        "Company",
        "Supervisory_Organization",
        "Skills",
        "Scheduled_Weekly_Hours",
    } <= set(rows[0])


def test_workday_incremental_prompt_returns_only_changed_workers(serve: Any, seeds: Any) -> None:
    system = WorkdaySim(seeds["workday"])
    url = serve(system)
    system.update_worker("21003", Cost_Rate="99.00")
    rows = httpx.get(
        f"{url}{REPORT}", params={"format": "json", "Updated_From": "2025-01-01T00:00:00Z"}, auth=AUTH
    ).json()["Report_Entry"]
    assert [(r["Employee_ID"], r["Cost_Rate"]) for r in rows] == [("21003", "99.00")]


def test_expense_reports_page_by_cursor_to_the_end(serve: Any, seeds: Any) -> None:
    url = serve(ExpenseSim(seeds["expenses"]))
    assert httpx.get(f"{url}/api/v1/reports").status_code == 401
    assert httpx.get(f"{url}/api/v1/reports", params={"limit": 201}, headers=KEY).status_code == 400
    total = len(seeds["expenses"]["reports"])
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 7}
    while True:
        body = httpx.get(f"{url}/api/v1/reports", params=params, headers=KEY).json()
        seen += [r["id"] for r in body["data"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        params["cursor"] = body["next_cursor"]
    assert len(seen) == len(set(seen)) == total
    line = seeds["expenses"]["reports"][0]["line_items"][0]
    assert {"amount", "currency", "receipt_attached", "state", "policy_violations"} <= set(line)


def test_webhooks_are_delivered_and_duplicates_keep_the_event_id(serve: Any, seeds: Any) -> None:
    got: list[str] = []
    lock = threading.Lock()
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> dict[str, bool]:
        with lock:
            got.append((await request.json())["id"])
        return {"ok": True}

    class _App:
        app = receiver

        def serve(self) -> Any:
            from handoffs.simulator.server import SimServer

            return SimServer(receiver)

    hook_url = serve(_App())
    system = ExpenseSim(seeds["expenses"], duplicate_rate=1.0)
    url = serve(system)
    httpx.post(
        f"{url}/api/v1/webhooks", json={"url": f"{hook_url}/hook", "events": ["report.approved"]}, headers=KEY
    )
    report_id = seeds["expenses"]["reports"][0]["id"]
    sent = httpx.post(f"{url}/_sim/events", json={"type": "report.approved", "report_id": report_id}).json()
    assert sent["deliveries"] == 2 and len(got) == 2 and got[0] == got[1]
    assert system.faults.fired["duplicate"] == 1
