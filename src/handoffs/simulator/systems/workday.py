"""A Workday RaaS-like HRIS: one custom report of workers, as JSON, behind basic auth."""

from __future__ import annotations

import base64
import copy
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import Response

from handoffs.simulator.faults import Drift
from handoffs.simulator.systems.common import NativeJSON, SimSystem

__all__ = ["WORKDAY_PASSWORD", "WORKDAY_REPORT", "WORKDAY_TENANT", "WORKDAY_USER", "WorkdaySim"]

WORKDAY_TENANT = "firm_sim1"
WORKDAY_USER = "ISU_Handoffs"
WORKDAY_PASSWORD = "sim-workday-password"  # noqa: S105 - a fixed credential of the simulator
WORKDAY_REPORT = "Handoffs_Workers"
_DRIFT = Drift(
    key="Employee_ID",
    renamed={"Cost_Rate": "Hourly_Cost_Rate"},
    added={"Pronouns": ""},
    droppable=("Company_ID",),
    malform=lambda r: r.update(Scheduled_Weekly_Hours="forty"),
)


class WorkdaySim(SimSystem):
    """Simulated Workday: ``GET /ccx/service/customreport2/{tenant}/{owner}/{report}?format=json``."""

    name: ClassVar[str] = "workday"

    def __init__(self, seed_data: dict[str, list[dict[str, Any]]], **kwargs: Any) -> None:
        self.workers = [copy.deepcopy(r) for r in seed_data.get("Report_Entry", [])]
        super().__init__(**kwargs)

    def error(self, status: int, code: str, message: str) -> Response:
        return NativeJSON(
            {"error": message, "errors": [{"error": message, "code": code}]}, status_code=status
        )

    def routes(self, app: FastAPI) -> None:
        @app.get("/ccx/service/customreport2/{tenant}/{owner}/{report}")
        async def report(tenant: str, owner: str, report: str, request: Request) -> Response:
            expected = base64.b64encode(
                f"{WORKDAY_USER}@{WORKDAY_TENANT}:{WORKDAY_PASSWORD}".encode()
            ).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return self.error(401, "UNAUTHORIZED", "Invalid username or password")
            if tenant != WORKDAY_TENANT or report != WORKDAY_REPORT or owner != WORKDAY_USER:
                return self.error(404, "NOT_FOUND", f"Report {owner}/{report} was not found in {tenant}")
            if request.query_params.get("format") != "json":
                return self.error(400, "INVALID_FORMAT", "This simulator only renders format=json")
            since = request.query_params.get("Updated_From")  # a report prompt, as the report defines it
            rows = [w for w in self.workers if since is None or w["Last_Updated"] >= since]
            return NativeJSON({"Report_Entry": self.faults.mangle(rows, _DRIFT)})

    def update_worker(self, employee_id: str, **changes: Any) -> None:
        """Change a worker as HR would (for tests of incremental pulls)."""
        for worker in self.workers:
            if worker["Employee_ID"] == employee_id:
                worker.update(changes, Last_Updated=self.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
