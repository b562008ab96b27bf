"""A Harvest API v2-like time tracker: time entries, users, projects, clients.

Paging, filters, headers and the 422 on ``per_page`` > 2000 follow the public v2 docs. The
one extension: PATCH accepts ``is_billed`` (real Harvest marks entries billed only by
importing them into a Harvest invoice); see docs/simulator.md.
"""

from __future__ import annotations

import copy
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response

from handoffs.simulator.faults import Drift
from handoffs.simulator.systems.common import NativeJSON, SimSystem

__all__ = ["HARVEST_ACCOUNT_ID", "HARVEST_TOKEN", "HarvestSim"]

HARVEST_TOKEN = "sim-harvest-token"  # noqa: S105 - a fixed credential of the simulator
HARVEST_ACCOUNT_ID = "424242"
MAX_PER_PAGE = 2000
_EDITABLE = {
    "project_id",
    "task_id",
    "spent_date",
    "started_time",
    "ended_time",
    "hours",
    "notes",
    "external_reference",
}


def _malform(record: dict[str, Any]) -> None:
    record["hours"] = "n/a"


_DRIFT = Drift(
    key="id",
    renamed={"hours": "hours_decimal"},
    added={"approval_status": "approved"},
    droppable=("spent_date",),
    malform=_malform,
)


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class HarvestSim(SimSystem):
    """Simulated Harvest: ``/v2/time_entries``, ``/v2/users``, ``/v2/projects``, ``/v2/clients``."""

    name: ClassVar[str] = "harvest"
    documented_limit: ClassVar[tuple[int, float] | None] = (100, 15.0)  # 100 requests per 15 seconds

    def __init__(self, seed_data: dict[str, list[dict[str, Any]]], **kwargs: Any) -> None:
        self.data = {k: [copy.deepcopy(r) for r in v] for k, v in seed_data.items()}
        self.entries = {r["id"]: r for r in self.data.get("time_entries", [])}
        super().__init__(**kwargs)

    def error(self, status: int, code: str, message: str) -> Response:
        if status == 401:
            return NativeJSON({"error": "invalid_token", "error_description": message}, status_code=401)
        return NativeJSON({"message": message}, status_code=status)

    def _check(self, request: Request) -> Response | None:
        headers = request.headers
        if not headers.get("user-agent"):
            return self.error(400, "bad_request", "Missing User-Agent header")
        if (
            headers.get("authorization") != f"Bearer {HARVEST_TOKEN}"
            or headers.get("harvest-account-id") != HARVEST_ACCOUNT_ID
        ):
            return self.error(
                401,
                "invalid_token",
                "The access token provided is expired, revoked, malformed or invalid for other reasons.",
            )
        return None

    def routes(self, app: FastAPI) -> None:
        @app.get("/v2/time_entries")
        async def list_entries(request: Request) -> Response:
            return self._list(request, "time_entries", self._entry_filter(request))

        @app.get("/v2/time_entries/{entry_id}")
        async def get_entry(entry_id: int, request: Request) -> Response:
            denied = self._check(request)
            if denied:
                return denied
            if entry_id not in self.entries:
                return self.error(404, "not_found", "Not found")
            return NativeJSON(self.entries[entry_id])

        @app.patch("/v2/time_entries/{entry_id}")
        async def patch_entry(entry_id: int, request: Request) -> Response:
            denied = self._check(request)
            if denied:
                return denied
            return self._patch(entry_id, await request.json())

        for collection in ("users", "projects", "clients"):
            app.add_api_route(f"/v2/{collection}", self._lister(collection), methods=["GET"])

    def _lister(self, collection: str) -> Any:
        async def handler(request: Request) -> Response:
            return self._list(request, collection, self._updated_filter(request))

        return handler

    def _updated_filter(self, request: Request) -> Any:
        since = request.query_params.get("updated_since")
        return lambda r: since is None or r["updated_at"] >= since.replace("+00:00", "Z")

    def _entry_filter(self, request: Request) -> Any:
        q = request.query_params
        updated = self._updated_filter(request)

        def keep(r: dict[str, Any]) -> bool:
            checks = [
                updated(r),
                "from" not in q or r["spent_date"] >= q["from"],
                "to" not in q or r["spent_date"] <= q["to"],
                "is_billed" not in q or r["is_billed"] == (q["is_billed"] == "true"),
                "is_running" not in q or r["is_running"] == (q["is_running"] == "true"),
                "user_id" not in q or str(r["user"]["id"]) == q["user_id"],
                "project_id" not in q or str(r["project"]["id"]) == q["project_id"],
                "client_id" not in q or (bool(r["client"]) and str(r["client"]["id"]) == q["client_id"]),
            ]
            return all(checks)

        return keep

    def _list(self, request: Request, collection: str, keep: Any) -> Response:
        denied = self._check(request)
        if denied:
            return denied
        q = request.query_params
        try:
            page, per_page = int(q.get("page", "1")), int(q.get("per_page", str(MAX_PER_PAGE)))
        except ValueError:
            return self.error(422, "invalid", "page and per_page must be integers")
        if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
            return self.error(422, "invalid", f"per_page must be between 1 and {MAX_PER_PAGE}")
        rows = [r for r in self.data.get(collection, []) if keep(r)]
        if collection == "time_entries":
            rows.sort(key=lambda r: (r["spent_date"], r["id"]), reverse=True)
        total_pages = math.ceil(len(rows) / per_page)
        chunk = rows[(page - 1) * per_page : page * per_page]
        base = str(request.url.remove_query_params(["page", "per_page"]))

        def link(n: int | None) -> str | None:
            if n is None:
                return None
            sep = "&" if "?" in base else "?"
            return f"{base}{sep}{urlencode({'page': n, 'per_page': per_page})}"

        next_page = page + 1 if page < total_pages else None
        previous = page - 1 if page > 1 else None
        return NativeJSON(
            {
                collection: self.faults.mangle(chunk, _DRIFT) if collection == "time_entries" else chunk,
                "per_page": per_page,
                "total_pages": total_pages,
                "total_entries": len(rows),
                "next_page": next_page,
                "previous_page": previous,
                "page": page,
                "links": {
                    "first": link(1),
                    "next": link(next_page),
                    "previous": link(previous),
                    "last": link(max(total_pages, 1)),
                },
            }
        )

    def _patch(self, entry_id: int, body: Any) -> Response:
        entry = self.entries.get(entry_id)
        if entry is None:
            return self.error(404, "not_found", "Not found")
        if not isinstance(body, dict):
            return self.error(422, "invalid", "Body must be a JSON object")
        unknown = set(body) - _EDITABLE - {"is_billed"}
        if unknown:
            return self.error(422, "invalid", f"Unknown parameter: {sorted(unknown)[0]}")
        if entry["is_locked"] and set(body) & _EDITABLE:
            return self.error(422, "invalid", "This time entry is locked and cannot be edited")
        for key, value in body.items():
            if key == "hours":
                entry[key] = entry["rounded_hours"] = Decimal(str(value))
            elif key == "spent_date":
                entry[key] = date.fromisoformat(value).isoformat()
            elif key != "project_id":
                entry[key] = value
        entry["updated_at"] = _z(self.now())
        self.remember("patch_time_entry", id=entry_id, body=body)
        return NativeJSON(entry)
