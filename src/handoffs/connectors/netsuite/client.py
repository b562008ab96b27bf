"""NetSuite as an :class:`~handoffs.domain.ports.ErpPort`: upsert by external id, confirm, read back.

Invoices, customers, jobs (projects), journal entries and contracts (a custom record type,
``customrecord_handoffs_contract``) are all written the same way:

* ``PUT /services/rest/record/v1/{type}/eid:{externalId}``, with ``?replace=item`` (invoices)
  or ``?replace=line`` (journal entries): NetSuite appends the lines of a non-keyed sublist
  on every update otherwise, so a repeat would double them;
* references by internal id (:mod:`.refs`); external ids of letters, digits, ``_`` and ``-``;
* with ``Prefer: respond-async`` NetSuite answers 202 and a job ``Location``; the job is
  kept with the delivery (``pending_writes``) and a retry polls it rather than sending
  again, and the request carries an ``X-NetSuite-Idempotency-Key`` (the same for the same
  delivery and body) so a repeat names the first job (400 ``IDEMPOTENCY_ERROR``);
* a write whose answer never came is looked up by ``eid:`` before it is ever sent again
  (:mod:`handoffs.engine.uncertain`). Two workers posting the same record at once upsert
  the same external id, so NetSuite keeps one record;
* once confirmed, the record is read back with ``expandSubResources=true`` and its
  currency, subtotal, tax, total and line count compared with the hub's
  (:mod:`handoffs.connectors.readback`).
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import httpx

from handoffs.connectors.base import Reachability
from handoffs.connectors.http import HttpClient, classify, dumps, parse_json
from handoffs.connectors.mapping import Lookups, MappingFailure, MappingSpec, apply_mapping
from handoffs.connectors.netsuite.auth import NetSuiteClientCredentials
from handoffs.connectors.netsuite.config import NetSuiteConfig
from handoffs.connectors.netsuite.refs import References
from handoffs.connectors.netsuite.tba import NetSuiteTokenAuth
from handoffs.connectors.readback import Figures, check_read_back, invoice_figures, journal_figures
from handoffs.domain.billing import Invoice, JournalEntry
from handoffs.domain.codec import encode
from handoffs.domain.coexistence import PostedDocument
from handoffs.domain.ports import ExternalRef, Guard
from handoffs.domain.work import Project
from handoffs.engine.errors import HandoffsFailure, TerminalError, Waiting
from handoffs.engine.uncertain import PendingWrites, SettlePolicy, UncertainWrites

__all__ = ["NetSuiteConfig", "NetSuiteErp", "external_id"]

RECORD = "/services/rest/record/v1"
CONTRACT_RECORD = "customrecord_handoffs_contract"
SUBLISTS = {"invoice": "item", "journalEntry": "line"}  # non-keyed: replaced, never appended
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_IDEMPOTENCY = uuid.UUID("6f1d4c52-9a1e-4d8e-b7a4-1c3e5d0f2a90")


def external_id(hub_id: str) -> str:
    """The NetSuite external id for a hub id: itself when NetSuite allows it (letters, digits,
    ``_``, ``-``), else the allowed characters plus a digest of the original, so no two differ."""
    if _EXTERNAL_ID.match(hub_id):
        return hub_id
    digest = hashlib.sha256(hub_id.encode()).hexdigest()[:10]
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', hub_id)[:200]}-{digest}"


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
        pending: PendingWrites | None = None,
        **http: Any,
    ) -> None:
        self.system, self.config, self.mappings, self.lookups = system, config, mappings, lookups
        self.sleep = sleep
        self.auth: httpx.Auth = (
            NetSuiteTokenAuth(config.tba) if config.tba else NetSuiteClientCredentials(config)
        )
        self.client = HttpClient(system, config.base_url, auth=self.auth, guard=guard, **http)
        self.refs = References(system, self.client, config.tax_codes)
        self.writes = UncertainWrites(
            system, pending, SettlePolicy(settle_seconds=config.settle_seconds), sleep=sleep
        )
        self._customers: dict[str, str] = {}

    # -- ErpPort --------------------------------------------------------------------------------
    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef:
        """Upsert the customer, then the invoice under ``eid:{invoice.id}``; read it back."""
        self.ensure_customer(invoice.customer_id, invoice.legal_entity_id)
        body = self._map("invoice", encode(invoice))
        ref = ExternalRef(self.system, self.upsert("invoice", invoice.id, body, idempotency_key))
        held = self._invoice(invoice.id)
        figures = held[1] if held is not None else Figures(currency="(no record)")
        check_read_back(self.system, "invoice", invoice.id, invoice_figures(invoice), figures)
        return ref

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
        return ExternalRef(
            self.system, self.upsert(CONTRACT_RECORD, str(metadata["id"]), body, idempotency_key)
        )

    def post_journal(self, entry: JournalEntry, idempotency_key: str = "") -> ExternalRef:
        """Upsert a balanced journal entry (``journalEntry/eid:{entry.id}``); read it back."""
        body = self._map("journal_entry", encode(entry))
        ref = ExternalRef(self.system, self.upsert("journalEntry", entry.id, body, idempotency_key))
        record = self._get_if_present("journalEntry", entry.id)
        lines = ((record or {}).get("line") or {}).get("items") or []
        debits = sum((Decimal(str(x.get("debit") or 0)) for x in lines), Decimal(0))
        held = Figures(self._currency(record), None, None, debits, len(lines)) if record else Figures()
        check_read_back(self.system, "journal entry", entry.id, journal_figures(entry), held)
        return ref

    def read_invoices(self, invoice_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """What NetSuite holds for each invoice (``GET invoice/eid:{id}``, lines expanded)."""
        found: dict[str, PostedDocument] = {}
        for invoice_id in invoice_ids:
            held = self._invoice(invoice_id)
            if held is not None:
                found[invoice_id] = held[0]
        return found

    def _invoice(self, invoice_id: str) -> tuple[PostedDocument, Figures] | None:
        record = self._get_if_present("invoice", invoice_id)
        if record is None:
            return None
        items = (record.get("item") or {}).get("items") or []
        lines = {str(i.get("custcol_handoffs_line")): Decimal(str(i.get("amount", 0))) for i in items}
        doc = PostedDocument(
            invoice_id,
            self.system,
            str(record.get("id")),
            currency=self._currency(record),
            net=_decimal(record.get("subtotal")),
            tax=_decimal(record.get("taxTotal")),
            total=_decimal(record.get("total")),
            lines=lines,
        )
        return doc, Figures(doc.currency, doc.net, doc.tax, doc.total, len(items))

    def read_journals(self, journal_ids: Iterable[str]) -> dict[str, PostedDocument]:
        """What NetSuite holds for each journal entry (``GET journalEntry/eid:{id}``), by account."""
        found: dict[str, PostedDocument] = {}
        for journal_id in journal_ids:
            record = self._get_if_present("journalEntry", journal_id)
            if record is None:
                continue
            accounts: dict[str, Decimal] = {}
            for line in (record.get("line") or {}).get("items") or []:
                account = self.refs.name_of(
                    "account", "acctNumber", str((line.get("account") or {}).get("id"))
                )
                amount = Decimal(str(line.get("debit") or 0)) - Decimal(str(line.get("credit") or 0))
                accounts[account] = accounts.get(account, Decimal(0)) + amount
            found[journal_id] = PostedDocument(
                journal_id,
                self.system,
                str(record.get("id")),
                currency=self._currency(record),
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
    def upsert(self, kind: str, hub_id: str, body: dict[str, Any], key: str = "") -> str:
        """``PUT {type}/eid:{externalId}`` (found first if an earlier try got no answer)."""
        eid = external_id(hub_id)
        key = key or f"{self.system}:{kind}:{hub_id}"
        body = self.refs.resolve(body, SUBLISTS.get(kind))
        return self.writes.write(
            key,
            find=lambda: self._find(kind, eid),
            send=lambda: self._send(kind, eid, body, key),
            resume=lambda job: self._await_job(job, key),
        )

    def _send(self, kind: str, eid: str, body: dict[str, Any], key: str) -> str:
        content = dumps(body)
        headers = {"Content-Type": "application/json"}
        if self.config.respond_async:
            headers["Prefer"] = "respond-async"
            digest = hashlib.sha256(key.encode() + b"\0" + content).hexdigest()
            headers["X-NetSuite-Idempotency-Key"] = str(uuid.uuid5(_IDEMPOTENCY, digest))
        params = {"replace": SUBLISTS[kind]} if kind in SUBLISTS else None
        url = f"{RECORD}/{kind}/eid:{eid}"
        response = self.client.request(
            "PUT", url, params=params, content=content, headers=headers, write=True, accept=(400,)
        )
        if response.status_code == 400:
            if b"IDEMPOTENCY_ERROR" in response.content and response.headers.get("Location"):
                return self._await_job(response.headers["Location"], key)  # the first job's answer
            raise classify(self.system, response) or TerminalError("unreachable")
        if response.status_code == 202:
            self.writes.remember_job(key, response.headers["Location"])
            return self._await_job(response.headers["Location"], key)
        return _id_from_location(response)

    def _find(self, kind: str, eid: str) -> str | None:
        record = self._get_if_present(kind, eid, expand=False)
        return str(record["id"]) if record is not None else None

    def get(self, kind: str, key: str, expand: bool = True) -> dict[str, Any]:
        params = {"expandSubResources": "true"} if expand else None
        result: dict[str, Any] = self.client.json("GET", f"{RECORD}/{kind}/{key}", params=params)
        return result

    def _get_if_present(self, kind: str, hub_id: str, expand: bool = True) -> dict[str, Any] | None:
        """``GET {type}/eid:{externalId}``, or None when NetSuite answers 404 (no such record)."""
        try:
            return self.get(kind, f"eid:{external_id(hub_id)}", expand)
        except TerminalError as exc:
            if " answered 404" in str(exc):
                return None
            raise

    def _currency(self, record: dict[str, Any] | None) -> str | None:
        ref = (record or {}).get("currency") or {}
        return self.refs.name_of("currency", "symbol", str(ref["id"])) if ref.get("id") else None

    def _await_job(self, location: str, key: str) -> str:
        for _ in range(self.config.max_polls):
            job = self.client.json("GET", location)
            if job.get("completed"):
                tasks = self.client.json("GET", f"{location}/task")
                task = tasks["items"][0]["links"][0]["href"]
                return self._result(f"{httpx.URL(task).path}/result", job.get("progress"))
            self.sleep(self.config.poll_interval)
        raise Waiting(
            f"{self.system} job {httpx.URL(location).path} for {key} is still pending; polled again later",
            category="pending",
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
        """A token from the OAuth 2.0 endpoint (or a TBA-signed GET), the service item, and every
        configured reference."""
        try:
            self.client.request("GET", f"{RECORD}/serviceItem/{self.config.service_item}")
            missing = self.refs.missing(self.config.references)
        except HandoffsFailure as exc:
            return Reachability(self.system, False, str(exc))
        if missing:
            return Reachability(self.system, False, f"not set up in NetSuite: {', '.join(missing)}")
        resolved = sum(len(v) for v in self.config.references.values())
        login = "TBA signature accepted" if self.config.tba else "token issued"
        return Reachability(
            self.system,
            True,
            f"{login}; service item {self.config.service_item} and {resolved} references found by id",
        )

    def close(self) -> None:
        self.client.close()


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _id_from_location(response: httpx.Response) -> str:
    location = response.headers.get("Location") or ""
    if not location:
        body = parse_json(response) if response.content else {}
        if isinstance(body, dict) and body.get("id"):
            return str(body["id"])
        raise TerminalError("NetSuite answered without a record Location", category="rejected")
    return location.rstrip("/").rsplit("/", 1)[-1]
