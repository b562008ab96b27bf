"""The expense connector: cursor-paged reports, flattened to one record per line item.

Each line record carries its report's id, employee and ``updated_at`` (the report is what
changes), so the cursor and the dedupe work per line. A report whose lines are not where
the mapping expects them is passed on whole, so the mapping names the problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from handoffs.connectors.auth import ApiKeyAuth
from handoffs.connectors.base import Reachability
from handoffs.connectors.expenses.config import ExpenseConfig
from handoffs.connectors.http import HttpClient
from handoffs.connectors.paging import next_cursor
from handoffs.domain.ports import ExternalRef, Guard
from handoffs.engine.errors import HandoffsFailure, TerminalError

__all__ = ["ExpenseConfig", "ExpenseConnector", "flatten"]


def flatten(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per line item, with the report's fields under ``report``."""
    lines = report.get("line_items")
    if not isinstance(lines, list):
        return [report]
    head = {k: v for k, v in report.items() if k != "line_items"}
    return [{**line, "report": head, "updated_at": report.get("updated_at")} for line in lines]


class ExpenseConnector:
    def __init__(
        self, system: str, config: ExpenseConfig, *, guard: Guard | None = None, **http: Any
    ) -> None:
        self.system, self.config = system, config
        self.client = HttpClient(
            system, config.base_url, auth=ApiKeyAuth(config.api_key), guard=guard, **http
        )

    def resources(self) -> tuple[str, ...]:
        return ("expenses",)

    def fetch(self, resource: str, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        if resource != "expenses":
            raise ValueError(f"the expense tool has no resource {resource!r}")
        params: dict[str, Any] = {"limit": self.config.limit}
        if since is not None:
            params["updated_since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for page in next_cursor(self.client, "/api/v1/reports", params):
            yield [line for report in page for line in flatten(report)]

    def write_back_kinds(self) -> frozenset[str]:
        return frozenset(self.config.write_back)

    def check_write_back(self) -> Reachability:
        """Read-only: the export mark needs no set-up beyond the API key (checked elsewhere)."""
        return Reachability(self.system, True, "the export mark needs no set-up")

    def write_back(self, kind: str, record_id: str, value: str, idempotency_key: str) -> ExternalRef:
        """Mark report ``record_id`` exported with the invoice id as its reference (``invoiced``).

        Repeating it with the same reference changes nothing; the tool refuses a report that
        is not approved (409)."""
        if kind not in self.config.write_back:
            raise TerminalError(f"{self.system}: no {kind!r} write-back is enabled", category="write_back")
        self.client.request("POST", f"/api/v1/reports/{record_id}/export", json={"reference": value})
        return ExternalRef(self.system, record_id)

    def check(self) -> Reachability:
        try:
            self.client.json("GET", "/api/v1/reports", params={"limit": 1})
        except HandoffsFailure as exc:
            return Reachability(self.system, False, str(exc))
        return Reachability(self.system, True, "reports answer")

    def close(self) -> None:
        self.client.close()
