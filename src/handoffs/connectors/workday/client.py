"""The Workday connector: one RaaS report, filtered by its ``Updated_From`` prompt.

RaaS renders every value as text and returns the whole report in one response (no paging).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from handoffs.connectors.auth import BasicAuth
from handoffs.connectors.base import Reachability
from handoffs.connectors.http import HttpClient
from handoffs.connectors.workday.config import WorkdayConfig
from handoffs.domain.ports import Guard
from handoffs.engine.errors import HandoffsFailure

__all__ = ["WorkdayConfig", "WorkdayConnector"]


class WorkdayConnector:
    def __init__(
        self, system: str, config: WorkdayConfig, *, guard: Guard | None = None, **http: Any
    ) -> None:
        self.system, self.config = system, config
        user = f"{config.user}@{config.tenant}"
        self.client = HttpClient(
            system, config.base_url, auth=BasicAuth(user, config.password), guard=guard, **http
        )
        self.path = f"/ccx/service/customreport2/{config.tenant}/{config.user}/{config.report}"

    def resources(self) -> tuple[str, ...]:
        return ("workers",)

    def fetch(self, resource: str, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        if resource != "workers":
            raise ValueError(f"workday has no resource {resource!r}")
        params = {"format": "json"}
        if since is not None:
            params[self.config.since_prompt] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = self.client.json("GET", self.path, params=params)
        yield list(body.get("Report_Entry") or [])

    def check(self) -> Reachability:
        try:
            body = self.client.json(
                "GET", self.path, params={"format": "json", self.config.since_prompt: "2999-01-01T00:00:00Z"}
            )
        except HandoffsFailure as exc:
            return Reachability(self.system, False, str(exc))
        return Reachability(self.system, True, f"report answers ({len(body.get('Report_Entry') or [])} rows)")

    def close(self) -> None:
        self.client.close()
