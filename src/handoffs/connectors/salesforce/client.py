"""The Salesforce connector: SOQL queries paged by ``nextRecordsUrl``, upsert by external id.

Incremental queries filter on ``SystemModstamp >= since`` (the overlap and key dedupe are
the pull runner's). Won deals are selected on ``IsWon``, never on a stage label. Upserts go
by external id, ``PATCH .../External_Id__c/{value}`` (201 created, 204 updated, 300 when
the value matches several records). The project id goes back to the won opportunity, where
``write_back: {project_id: Opportunity.Field__c}`` enables it, as an update of that one
custom field on the record by its own Id (``PATCH .../sobjects/Opportunity/{Id}``, 204): an
update never creates a record, and repeating it changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from handoffs.connectors.auth import OAuth2ClientCredentials
from handoffs.connectors.base import Reachability
from handoffs.connectors.http import HttpClient
from handoffs.connectors.paging import next_records_url
from handoffs.connectors.salesforce.config import SalesforceConfig
from handoffs.domain.ports import ExternalRef, Guard
from handoffs.engine.errors import HandoffsFailure, TerminalError

__all__ = ["QUERIES", "SalesforceConfig", "SalesforceConnector"]

QUERIES = {
    "accounts": (
        "SELECT Id, Name, External_Id__c, BillingCountry, CurrencyIsoCode, SystemModstamp FROM Account",
        "",
    ),
    "opportunities": (
        "SELECT Id, AccountId, Name, StageName, IsWon, IsClosed, CloseDate, Amount, CurrencyIsoCode, "
        "Handoffs_Contract__c, Billing_Model__c, Contracting_Entity__c, Service_Start__c, Service_End__c, "
        "Rates_Effective__c, External_Id__c, SystemModstamp FROM Opportunity",
        "IsWon = true",
    ),
    "line_items": (
        "SELECT Id, OpportunityId, Name, ProductCode, Quantity, UnitPrice, TotalPrice, SystemModstamp "
        "FROM OpportunityLineItem",
        "",
    ),
}


class SalesforceConnector:
    def __init__(
        self, system: str, config: SalesforceConfig, *, guard: Guard | None = None, **http: Any
    ) -> None:
        self.system, self.config = system, config
        self.api = f"/services/data/{config.api_version}"
        self.auth = OAuth2ClientCredentials(
            f"{config.base_url.rstrip('/')}/services/oauth2/token", config.client_id, config.client_secret
        )
        self.client = HttpClient(system, config.base_url, auth=self.auth, guard=guard, **http)

    def resources(self) -> tuple[str, ...]:
        return tuple(QUERIES)

    def soql(self, resource: str, since: datetime | None) -> str:
        select, condition = QUERIES[resource]
        conditions = [c for c in (condition,) if c]
        if since is not None:
            conditions.append(f"SystemModstamp >= {since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"{select}{where} ORDER BY SystemModstamp ASC"

    def fetch(self, resource: str, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        if resource not in QUERIES:
            raise ValueError(f"salesforce has no resource {resource!r}")
        headers = {"Sforce-Query-Options": f"batchSize={self.config.batch_size}"}
        return next_records_url(
            self.client, f"{self.api}/query", params={"q": self.soql(resource, since)}, headers=headers
        )

    def upsert(self, sobject: str, field: str, value: str, body: dict[str, Any]) -> bool:
        """Upsert by external id; True when it created the record. 300 (ambiguous) is terminal."""
        response = self.client.request("PATCH", f"{self.api}/sobjects/{sobject}/{field}/{value}", json=body)
        if response.status_code == 300:
            raise TerminalError(f"{self.system}: {sobject}.{field}={value} matches several records")
        return response.status_code == 201

    def write_back_kinds(self) -> frozenset[str]:
        return frozenset(self.config.write_back)

    def check_write_back(self) -> Reachability:
        """Read-only: each configured write-back field exists and may be edited (``describe``)."""
        problems, seen = [], []
        for target in self.config.write_back.values():
            sobject, _, name = target.partition(".")
            try:
                body = self.client.json("GET", f"{self.api}/sobjects/{sobject}/describe")
            except HandoffsFailure as exc:
                return Reachability(self.system, False, str(exc))
            field = next((f for f in body.get("fields", []) if f.get("name") == name), None)
            if field is None:
                problems.append(f"{target} does not exist")
            elif not field.get("updateable"):
                problems.append(f"{target} may not be edited by this user")
            else:
                seen.append(target)
        if problems:
            return Reachability(self.system, False, "; ".join(problems))
        return Reachability(self.system, True, f"{', '.join(seen)} exists and may be edited")

    def write_back(self, kind: str, record_id: str, value: str, idempotency_key: str) -> ExternalRef:
        """Write ``value`` to the configured field of the record (an update: safe to repeat)."""
        target = self.config.write_back.get(kind)
        if target is None:
            raise TerminalError(f"{self.system}: no {kind!r} write-back is enabled", category="write_back")
        sobject, _, field = target.partition(".")
        self.client.request("PATCH", f"{self.api}/sobjects/{sobject}/{record_id}", json={field: value})
        return ExternalRef(self.system, record_id)

    def check(self) -> Reachability:
        try:
            body = self.client.json(
                "GET", f"{self.api}/query", params={"q": "SELECT Id FROM Account LIMIT 1"}
            )
        except HandoffsFailure as exc:
            return Reachability(self.system, False, str(exc))
        return Reachability(self.system, True, f"{body.get('totalSize', '?')} accounts visible")

    def close(self) -> None:
        self.client.close()
