"""NetSuite as an :class:`~handoffs.flows.ports.ErpPort`: upsert by external id, confirm by polling.

Invoices, customers, jobs (projects), journal entries and contracts (a custom record type,
``customrecord_handoffs_contract``) are all written the same way.

Every write is ``PUT /services/rest/record/v1/{type}/eid:{externalId}``: repeating it after
a lost acknowledgement updates the same record, so no duplicate is ever created. With
``Prefer: respond-async`` NetSuite answers 202 and a job ``Location``; the job is polled
until it completes and its task result gives the record id (or NetSuite's error).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import httpx

from handoffs.connectors.auth import BearerAuth
from handoffs.connectors.base import Reachability
from handoffs.connectors.http import HttpClient, dumps, parse_json
from handoffs.connectors.mapping import Lookups, MappingFailure, MappingSpec, apply_mapping
from handoffs.connectors.netsuite.config import NetSuiteConfig
from handoffs.domain.billing import Invoice, JournalEntry
from handoffs.domain.codec import encode
from handoffs.domain.coexistence import PostedDocument
from handoffs.domain.work import Project
from handoffs.engine.errors import HandoffsFailure, TerminalError, TransientError
from handoffs.flows.ports import ExternalRef, Guard

__all__ = ["NetSuiteConfig", "NetSuiteErp"]

RECORD = "/services/rest/record/v1"
CONTRACT_RECORD = "customrecord_handoffs_contract"


class NetSuiteErp:
    """Posts invoices (and upserts their customers) to NetSuite."""

    def __init__(
        self,
        system: str,
        config: NetSuiteConfig,
        mappings: dict[str, MappingSpec],
        lookups: Lookups,
        *,
        guard: Guard | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **http: Any,
    ) -> None:
        self.system, self.config, self.mappings, self.lookups = system, config, mappings, lookups
        self.sleep = sleep
        self.client = HttpClient(system, config.base_url, auth=BearerAuth(config.token), guard=guard, **http)
        self._customers: dict[str, str] = {}

    # -- ErpPort --------------------------------------------------------------------------------
    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef:
        """Upsert the customer, then the invoice under ``eid:{invoice.id}``; return its internal id."""
        self.ensure_customer(invoice.customer_id, invoice.legal_entity_id)
        body = self._map("invoice", encode(invoice))
        return ExternalRef(self.system, self.upsert("invoice", invoice.id, body))

    def push_project(self, project: Project) -> ExternalRef:
        """Upsert the project as a NetSuite job under its customer (``job/eid:{project.id}``)."""
        if project.customer_id:
            self.ensure_customer(project.customer_id, project.legal_entity_id)
        return ExternalRef(self.system, self.upsert("job", project.id, self._map("job", encode(project))))

    def push_contract(self, metadata: dict[str, Any], idempotency_key: str) -> ExternalRef:
        """Upsert the contract's metadata as ``customrecord_handoffs_contract/eid:{contract id}``.

        NetSuite has no contract record of its own; a custom record type under the customer
        is the usual home. The upsert by external id is the idempotency.
        """
        self.ensure_customer(str(metadata["customer_id"]), str(metadata["legal_entity_id"]))
        body = self._map("contract", metadata)
        return ExternalRef(self.system, self.upsert(CONTRACT_RECORD, str(metadata["id"]), body))

    def post_journal(self, entry: JournalEntry, idempotency_key: str = "") -> ExternalRef:
        """Upsert a balanced journal entry (``journalEntry/eid:{entry.id}``): the upsert is the key."""
        body = self._map("journal_entry", encode(entry))
        return ExternalRef(self.system, self.upsert("journalEntry", entry.id, body))

    def read_invoices(self, invoice_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """What NetSuite holds for each invoice (``GET invoice/eid:{id}``); absent ids are left out."""
        found: dict[str, PostedDocument] = {}
        for invoice_id in invoice_ids:
            record = self._get_if_present("invoice", invoice_id)
            if record is None:
                continue
            items = (record.get("item") or {}).get("items") or []
            lines = {str(i.get("custcol_handoffs_line")): Decimal(str(i.get("amount", 0))) for i in items}
            found[invoice_id] = PostedDocument(
                invoice_id,
                self.system,
                str(record.get("id")),
                currency=(record.get("currency") or {}).get("refName"),
                net=sum(lines.values(), Decimal(0)),
                lines=lines,
            )
        return found

    def read_journals(self, journal_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """What NetSuite holds for each journal entry (``GET journalEntry/eid:{id}``), by account."""
        found: dict[str, PostedDocument] = {}
        for journal_id in journal_ids:
            record = self._get_if_present("journalEntry", journal_id)
            if record is None:
                continue
            accounts: dict[str, Decimal] = {}
            for line in (record.get("line") or {}).get("items") or []:
                account = str((line.get("account") or {}).get("refName"))
                amount = Decimal(str(line.get("debit") or 0)) - Decimal(str(line.get("credit") or 0))
                accounts[account] = accounts.get(account, Decimal(0)) + amount
            found[journal_id] = PostedDocument(
                journal_id,
                self.system,
                str(record.get("id")),
                currency=(record.get("currency") or {}).get("refName"),
                accounts=accounts,
            )
        return found

    def ensure_customer(self, customer_id: str, legal_entity_id: str) -> str:
        if customer_id not in self._customers:
            record = {"id": customer_id, "legal_entity_id": legal_entity_id}
            self._customers[customer_id] = self.upsert("customer", customer_id, self._map("customer", record))
        # Tell the lookups every time: the invoice mapping resolves the customer through them,
        # and they may have been renewed since this connector first upserted it.
        remember = getattr(self.lookups, "remember", None)
        if remember:
            remember(self.system, "customer", customer_id, self._customers[customer_id])
        return self._customers[customer_id]

    # -- record API -----------------------------------------------------------------------------
    def upsert(self, kind: str, external_id: str, body: dict[str, Any]) -> str:
        """``PUT {type}/eid:{externalId}``; returns the record's internal id."""
        url = f"{RECORD}/{kind}/eid:{external_id}"
        headers = {"Content-Type": "application/json"}
        if self.config.respond_async:
            headers["Prefer"] = "respond-async"
        response = self.client.request("PUT", url, content=dumps(body), headers=headers)
        if response.status_code == 202:
            return self._await_job(response.headers["Location"])
        return _id_from_location(response)

    def get(self, kind: str, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client.json("GET", f"{RECORD}/{kind}/{key}")
        return result

    def _get_if_present(self, kind: str, external_id: str) -> dict[str, Any] | None:
        """``GET {type}/eid:{externalId}``, or None when NetSuite answers 404 (no such record)."""
        try:
            return self.get(kind, f"eid:{external_id}")
        except TerminalError as exc:
            if " answered 404" in str(exc):
                return None
            raise

    def _await_job(self, location: str) -> str:
        for _ in range(self.config.max_polls):
            job = self.client.json("GET", location)
            if job.get("completed"):
                tasks = self.client.json("GET", f"{location}/task")
                task = tasks["items"][0]["links"][0]["href"]
                return self._result(f"{httpx.URL(task).path}/result", job.get("progress"))
            self.sleep(self.config.poll_interval)
        raise TransientError(
            f"{self.system} job {httpx.URL(location).path} is still pending", category="pending"
        )

    def _result(self, url: str, progress: str | None) -> str:
        try:
            body = self.client.json("GET", url)
        except TerminalError as exc:
            raise TerminalError(f"{self.system} job {progress}: {exc}", category="rejected") from None
        return str(body["id"])

    def _map(self, name: str, record: dict[str, Any]) -> dict[str, Any]:
        try:
            return apply_mapping(self.mappings[name], record, self.system, self.lookups)
        except MappingFailure as exc:
            raise TerminalError(str(exc), category="mapping") from None

    def check(self) -> Reachability:
        try:
            self.client.request("GET", f"{RECORD}/customer/eid:handoffs-reachability-check")
        except TerminalError as exc:
            if "404" in str(exc):
                return Reachability(
                    self.system, True, "record API answers (probe record absent, as expected)"
                )
            return Reachability(self.system, False, str(exc))
        except HandoffsFailure as exc:
            return Reachability(self.system, False, str(exc))
        return Reachability(self.system, True, "record API answers")

    def close(self) -> None:
        self.client.close()


def _id_from_location(response: httpx.Response) -> str:
    location = response.headers.get("Location") or ""
    if not location:
        body = parse_json(response) if response.content else {}
        if isinstance(body, dict) and body.get("id"):
            return str(body["id"])
        raise TerminalError("NetSuite answered without a record Location", category="rejected")
    return location.rstrip("/").rsplit("/", 1)[-1]
