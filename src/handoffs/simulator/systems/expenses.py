"""An expense tool with a JSON export API: reports with line items, cursor paging, webhooks.

Auth is an ``X-Api-Key`` header. Webhook deliveries carry an event id; duplicate deliveries
(a fault) resend the same id, as real webhook senders do on retries.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any, ClassVar

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response

from handoffs.simulator.faults import Drift
from handoffs.simulator.systems.common import NativeJSON, SimSystem

__all__ = ["EXPENSES_API_KEY", "ExpenseSim"]

EXPENSES_API_KEY = "sim-expenses-key"
MAX_LIMIT = 200
_DRIFT = Drift(
    key="id",
    renamed={"line_items": "lines"},
    added={"cost_center": None},
    droppable=("submitted_at",),
    malform=lambda r: r.update(submitted_at="yesterday"),
)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(json.loads(base64.urlsafe_b64decode(padded))["o"])


class ExpenseSim(SimSystem):
    """Simulated expense tool: ``/api/v1/reports``, export marks, webhooks."""

    name: ClassVar[str] = "expenses"
    documented_limit: ClassVar[tuple[int, float] | None] = (120, 60.0)

    def __init__(self, seed_data: dict[str, list[dict[str, Any]]], **kwargs: Any) -> None:
        self.reports = {r["id"]: copy.deepcopy(r) for r in seed_data.get("reports", [])}
        self.webhooks: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self._events = 0
        super().__init__(**kwargs)

    def error(self, status: int, code: str, message: str) -> Response:
        return NativeJSON({"error": {"code": code.lower(), "message": message}}, status_code=status)

    def routes(self, app: FastAPI) -> None:
        @app.get("/api/v1/reports")
        async def list_reports(request: Request) -> Response:
            if request.headers.get("x-api-key") != EXPENSES_API_KEY:
                return self.error(401, "unauthorized", "Missing or invalid API key")
            q = request.query_params
            try:
                limit = int(q.get("limit", "50"))
                offset = _offset(q["cursor"]) if q.get("cursor") else 0
            except (ValueError, KeyError, json.JSONDecodeError):
                return self.error(400, "invalid_request", "Invalid limit or cursor")
            if not 1 <= limit <= MAX_LIMIT:
                return self.error(400, "invalid_request", f"limit must be between 1 and {MAX_LIMIT}")
            rows = sorted(
                (
                    r
                    for r in self.reports.values()
                    if (not q.get("updated_since") or r["updated_at"] >= q["updated_since"])
                    and (not q.get("state") or r["state"] == q["state"].upper())
                ),
                key=lambda r: (r["updated_at"], r["id"]),
            )
            chunk = rows[offset : offset + limit]
            more = offset + limit < len(rows)
            return NativeJSON(
                {
                    "data": self.faults.mangle(chunk, _DRIFT),
                    "has_more": more,
                    "next_cursor": _cursor(offset + limit) if more else None,
                }
            )

        @app.get("/api/v1/reports/{report_id}")
        async def get_report(report_id: str, request: Request) -> Response:
            if request.headers.get("x-api-key") != EXPENSES_API_KEY:
                return self.error(401, "unauthorized", "Missing or invalid API key")
            if report_id not in self.reports:
                return self.error(404, "not_found", f"No report {report_id}")
            return NativeJSON(self.reports[report_id])

        @app.post("/api/v1/reports/{report_id}/export")
        async def mark_exported(report_id: str, request: Request) -> Response:
            if request.headers.get("x-api-key") != EXPENSES_API_KEY:
                return self.error(401, "unauthorized", "Missing or invalid API key")
            if report_id not in self.reports:
                return self.error(404, "not_found", f"No report {report_id}")
            body = await request.json()
            report = self.reports[report_id]
            reference = body.get("reference") if isinstance(body, dict) else None
            if not isinstance(reference, str) or not reference.strip():
                return self.error(400, "invalid_request", "reference must be a non-empty string")
            if report["state"] != "APPROVED":
                return self.error(
                    409, "conflict", f"Report {report_id} is {report['state']}; only APPROVED exports"
                )
            if (report.get("exported") or {}).get("reference") == reference:
                return NativeJSON(report)  # the same mark again changes nothing
            report["exported"] = {"reference": reference, "at": self._stamp()}
            report["updated_at"] = report["exported"]["at"]
            self.remember("export", report=report_id, reference=body.get("reference"))
            return NativeJSON(report)

        @app.post("/api/v1/webhooks")
        async def subscribe(request: Request) -> Response:
            if request.headers.get("x-api-key") != EXPENSES_API_KEY:
                return self.error(401, "unauthorized", "Missing or invalid API key")
            body = await request.json()
            hook = {
                "id": f"wh_{len(self.webhooks) + 1}",
                "url": body["url"],
                "events": body.get("events", ["report.approved", "report.rejected"]),
            }
            self.webhooks.append(hook)
            self.remember("subscribe", **hook)
            return NativeJSON(hook, status_code=201)

        @app.post("/_sim/events")
        async def emit(request: Request) -> Response:
            body = await request.json()
            delivered = await self.emit(body["type"], body["report_id"])
            return NativeJSON({"deliveries": delivered})

    def _stamp(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    async def emit(self, kind: str, report_id: str) -> int:
        """Send one event to every subscriber; a duplicate fault sends it twice."""
        self._events += 1
        event = {
            "id": f"evt_{self._events:06d}",
            "type": kind,
            "created_at": self._stamp(),
            "data": {"report": self.reports.get(report_id)},
        }
        sent = 0
        async with httpx.AsyncClient(timeout=5) as client:
            for hook in self.webhooks:
                if kind not in hook["events"]:
                    continue
                copies = 2 if self.faults.roll("duplicate", self.faults.settings.duplicate_rate) else 1
                if copies == 2:
                    self.faults.record("duplicate", id=event["id"], webhook=hook["id"])
                for _ in range(copies):
                    text = json.dumps(event, default=str)
                    event_id = str(event["id"])
                    response = await client.post(
                        hook["url"],
                        content=text,
                        headers={"Content-Type": "application/json", "X-Event-Id": event_id},
                    )
                    self.deliveries.append(
                        {"event": event["id"], "webhook": hook["id"], "status": response.status_code}
                    )
                    sent += 1
        return sent
