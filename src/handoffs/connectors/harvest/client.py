"""The Harvest connector: ``/v2/time_entries``, ``/v2/users``, ``/v2/projects`` with ``updated_since``.

Lists are followed through ``links.next`` (Harvest pages some lists by number and some by
cursor). Harvest requires ``Authorization: Bearer``, ``Harvest-Account-Id`` and a
``User-Agent``; its documented limit is 100 requests per 15 seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from handoffs.connectors.auth import BearerAuth
from handoffs.connectors.base import Reachability
from handoffs.connectors.harvest.config import HarvestConfig
from handoffs.connectors.http import HttpClient
from handoffs.connectors.paging import links_next
from handoffs.domain.ports import Guard
from handoffs.engine.errors import HandoffsFailure

__all__ = ["HarvestConnector"]

RESOURCES = ("users", "projects", "time_entries")


class HarvestConnector:
    """Pull Harvest records; mark entries billed once the hub has invoiced them."""

    def __init__(
        self, system: str, config: HarvestConfig, *, guard: Guard | None = None, **http: Any
    ) -> None:
        self.system, self.config = system, config
        self.client = HttpClient(
            system,
            config.base_url,
            auth=BearerAuth(config.token),
            guard=guard,
            headers={"Harvest-Account-Id": config.account_id, "User-Agent": "Handoffs (ops@firm.example)"},
            **http,
        )

    def resources(self) -> tuple[str, ...]:
        return RESOURCES

    def fetch(self, resource: str, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        if resource not in RESOURCES:
            raise ValueError(f"harvest has no resource {resource!r}")
        params: dict[str, Any] = {"per_page": self.config.per_page}
        if since is not None:
            params["updated_since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return links_next(self.client, f"/v2/{resource}", resource, params=params)

    def mark_billed(self, entry_id: str) -> None:
        """Flag one time entry billed (a simulator extension; see docs/simulator.md)."""
        self.client.request("PATCH", f"/v2/time_entries/{entry_id}", json={"is_billed": True})

    def check(self) -> Reachability:
        try:
            body = self.client.json("GET", "/v2/users", params={"per_page": 1})
        except HandoffsFailure as exc:
            return Reachability(self.system, False, str(exc))
        return Reachability(self.system, True, f"{body.get('total_entries', '?')} users")

    def close(self) -> None:
        self.client.close()
