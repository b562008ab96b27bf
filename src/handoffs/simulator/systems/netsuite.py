"""A NetSuite REST record API-like ERP: create, upsert by external id, read, and async jobs.

``Prefer: respond-async`` answers 202 with ``Location: /services/rest/async/v1/job/{id}``;
the job stays ``pending`` for ``async_pending_polls`` polls (or, with ``async_run_seconds``,
until that long after it was accepted, polled or not), then runs the operation and reports
``succeeded`` or ``failed``. A second asynchronous request with the same
``X-NetSuite-Idempotency-Key`` runs nothing: it answers 400 ``IDEMPOTENCY_ERROR`` with the
first job's ``Location`` ("Sending an Asynchronous Request Using an Idempotency Key",
subsect_164494900632). Errors use NetSuite's ``o:errorDetails`` body. Access tokens come
from the OAuth 2.0 token endpoint (:mod:`.netsuite_auth`) and expire; requests signed with
token-based authentication (:mod:`.netsuite_tba`) are accepted too when a TBA credential is
configured (``tba``, the simulator's own by default; None turns TBA off); what NetSuite does to
a record (references by id, appended sublists, totals) is in :mod:`.netsuite_records`.
"""

from __future__ import annotations

import copy
import time
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import Response

from handoffs.simulator.systems import netsuite_records as rules
from handoffs.simulator.systems.common import NativeJSON, SimSystem
from handoffs.simulator.systems.netsuite_auth import NETSUITE_CLIENT_ID, TOKEN_PATH, TokenIssuer
from handoffs.simulator.systems.netsuite_tba import SIM_TBA, TbaCredential, TbaVerifier

__all__ = ["NetSuiteSim"]

RECORD = "/services/rest/record/v1"
ASYNC = "/services/rest/async/v1/job"
TYPES = (
    "customer",
    "job",
    "invoice",
    "journalEntry",
    "customrecord_handoffs_contract",
    "subsidiary",
    "currency",
    "account",
    "salestaxitem",
    "serviceItem",
)
WRITABLE = TYPES[:5]


class NetSuiteSim(SimSystem):
    """Simulated NetSuite: records under ``/services/rest/record/v1`` and async jobs."""

    name: ClassVar[str] = "netsuite"
    documented_limit: ClassVar[tuple[int, float] | None] = None  # concurrency, see ``concurrency_limit``
    not_writes: ClassVar[tuple[str, ...]] = (TOKEN_PATH,)

    def __init__(
        self,
        seed_data: dict[str, list[dict[str, Any]]],
        async_pending_polls: int = 1,
        async_run_seconds: float | None = None,
        concurrency_limit: int = 15,
        certificates: dict[str, str] | None = None,
        tba: TbaCredential | None = SIM_TBA,
        **kwargs: Any,
    ) -> None:
        self.records: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TYPES}
        for kind, rows in seed_data.items():
            self.records[kind] = {str(r["id"]): copy.deepcopy(r) for r in rows}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, str] = {}  # X-NetSuite-Idempotency-Key -> job id
        self.tokens = TokenIssuer(certificates, NETSUITE_CLIENT_ID)
        self.tba = TbaVerifier(tba) if tba else None
        self.async_pending_polls = async_pending_polls
        self.async_run_seconds = async_run_seconds  # None: a job runs only when polled
        self.concurrency_limit = concurrency_limit
        self.in_flight = 0
        self._next_id = 1000
        super().__init__(**kwargs)

    def error(self, status: int, code: str, message: str, path: str | None = None) -> Response:
        return NativeJSON(rules.error_json(status, code, message, path), status_code=status)

    def routes(self, app: FastAPI) -> None:
        @app.post(TOKEN_PATH)
        async def token(request: Request) -> Response:
            lifetime = self.faults.settings.token_lifetime_seconds
            self.tokens.lifetime = lifetime if lifetime is not None else 3600.0
            form = dict(await request.form())
            status, body = self.tokens.issue(form, str(request.url.replace(query="")))
            return NativeJSON(body, status_code=status)

        @app.get(RECORD + "/{kind}")
        async def collection(kind: str, request: Request) -> Response:
            if not self._authorised(request):
                return self._login_error()
            if kind not in self.records:
                return self.error(404, "INVALID_RCRD_TYPE", f"Record type '{kind}' does not exist.")
            params = request.query_params
            rows = rules.query(self.records[kind], params.get("q"))
            if rows is None:
                return self.error(400, "INVALID_PARAMETER", "Invalid query in the q parameter.")
            limit, offset = int(params.get("limit", 1000)), int(params.get("offset", 0))
            return NativeJSON(rules.collapse(kind, rows, limit, offset))

        @app.post(RECORD + "/{kind}")
        async def create(kind: str, request: Request) -> Response:
            return await self._handle(request, "create", kind, None)

        @app.put(RECORD + "/{kind}/{key}")
        async def upsert(kind: str, key: str, request: Request) -> Response:
            return await self._handle(request, "upsert", kind, key)

        @app.patch(RECORD + "/{kind}/{key}")
        async def update(kind: str, key: str, request: Request) -> Response:
            return await self._handle(request, "update", kind, key)

        @app.get(RECORD + "/{kind}/{key}")
        async def read(kind: str, key: str, request: Request) -> Response:
            return await self._handle(request, "read", kind, key)

        @app.get(ASYNC + "/{job_id}")
        async def job(job_id: str, request: Request) -> Response:
            return self._job(job_id, request) if self._authorised(request) else self._login_error()

        @app.get(ASYNC + "/{job_id}/task")
        async def tasks(job_id: str, request: Request) -> Response:
            if not self._authorised(request):
                return self._login_error()
            if job_id not in self.jobs:
                return self.error(404, "NONEXISTENT_ID", f"Job {job_id} does not exist")
            link = f"{ASYNC}/{job_id}/task/{job_id}"
            return NativeJSON(
                {
                    "items": [{"links": [{"rel": "self", "href": link}]}],
                    "count": 1,
                    "hasMore": False,
                    "offset": 0,
                    "totalResults": 1,
                }
            )

        @app.get(ASYNC + "/{job_id}/task/{task_id}")
        async def task(job_id: str, task_id: str, request: Request) -> Response:
            return self._job(job_id, request) if self._authorised(request) else self._login_error()

        @app.get(ASYNC + "/{job_id}/task/{task_id}/result")
        async def result(job_id: str, task_id: str, request: Request) -> Response:
            if not self._authorised(request):
                return self._login_error()
            job = self.jobs.get(job_id)
            if job is None or not job["completed"]:
                return self.error(404, "NONEXISTENT_ID", f"Job {job_id} has no result yet")
            status, body = job["result"]
            return NativeJSON(body, status_code=status)

    def _authorised(self, request: Request) -> bool:
        authorization = request.headers.get("authorization")
        if self.tba and authorization and authorization.lower().startswith("oauth "):
            return self.tba.valid(request.method, str(request.url), authorization)
        return self.tokens.valid(authorization)

    def _login_error(self) -> Response:
        return self.error(401, "INVALID_LOGIN", "Invalid login attempt.")

    async def _handle(self, request: Request, op: str, kind: str, key: str | None) -> Response:
        if not self._authorised(request):
            return self._login_error()
        self._run_due()
        if self.in_flight >= self.concurrency_limit:
            self.faults.record("throttle", path=request.url.path, reason="concurrency")
            return self.error(
                429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked."
            )
        self.in_flight += 1
        try:
            body = await request.json() if op in ("create", "upsert", "update") else None
            replace = set(filter(None, request.query_params.get("replace", "").split(",")))
            if "respond-async" in request.headers.get("prefer", "") and op != "read":
                return self._enqueue(request, op, kind, key, body, replace)
            status, payload, location = self._apply(op, kind, key, body, replace)
        finally:
            self.in_flight -= 1
        if status >= 400:
            return NativeJSON(payload, status_code=status)
        if op == "read":
            expand = request.query_params.get("expandSubResources", "").lower() == "true"
            return NativeJSON(rules.render(self.records, kind, payload, expand))
        return Response(status_code=204, headers={"Location": location or ""})

    def _enqueue(
        self, request: Request, op: str, kind: str, key: str | None, body: Any, replace: set[str]
    ) -> Response:
        """Accept an asynchronous request as a job; a repeated idempotency key runs nothing."""
        idempotency_key = request.headers.get("x-netsuite-idempotency-key")
        if idempotency_key and idempotency_key in self.idempotency:
            job_id = self.idempotency[idempotency_key]
            self.remember("idempotent_repeat", job=job_id, type=kind, key=key)
            response = self.error(
                400,
                "IDEMPOTENCY_ERROR",
                "A request with the same idempotency key is already submitted. "
                'See the "Location" header for a link to the previously submitted job',
            )
            response.headers["Location"] = f"{ASYNC}/{job_id}"
            response.headers["Preference-Applied"] = "respond-async"
            return response
        self._next_id += 1
        job_id = str(self._next_id)
        if idempotency_key:
            self.idempotency[idempotency_key] = job_id
        self.jobs[job_id] = {
            "op": op,
            "kind": kind,
            "key": key,
            "body": body,
            "replace": replace,
            "accepted": time.monotonic(),
            "polls": 0,
            "completed": False,
            "result": None,
        }
        self.remember("async_accepted", job=job_id, op=op, type=kind, key=key)
        return Response(
            status_code=202, headers={"Location": f"{ASYNC}/{job_id}", "Preference-Applied": "respond-async"}
        )

    def _job(self, job_id: str, request: Request) -> Response:
        job = self.jobs.get(job_id)
        if job is None:
            return self.error(404, "NONEXISTENT_ID", f"Job {job_id} does not exist")
        self._run_due()
        job["polls"] += 1
        if not job["completed"] and job["polls"] > self.async_pending_polls:
            self._run(job)
        body: dict[str, Any] = {
            "links": [{"rel": "self", "href": f"{ASYNC}/{job_id}"}],
            "id": job_id,
            "completed": job["completed"],
            "progress": "pending" if not job["completed"] else "succeeded" if job["succeeded"] else "failed",
            "task": {"links": [{"rel": "self", "href": f"{ASYNC}/{job_id}/task"}]},
        }
        return NativeJSON(body)

    def _run(self, job: dict[str, Any]) -> None:
        status, payload, location = self._apply(
            job["op"], job["kind"], job["key"], job["body"], job["replace"]
        )
        result = (
            payload
            if status >= 400
            else {"links": [{"rel": "self", "href": location}], "id": (location or "").rsplit("/", 1)[-1]}
        )
        job.update(completed=True, result=(status if status >= 400 else 200, result), succeeded=status < 400)

    def _run_due(self) -> None:
        """Jobs run on NetSuite's own processors, polled or not: those older than ``async_run_seconds``."""
        if self.async_run_seconds is None:
            return
        now = time.monotonic()
        for job in self.jobs.values():
            if not job["completed"] and now - job["accepted"] >= self.async_run_seconds:
                self._run(job)

    def _find(self, kind: str, key: str) -> dict[str, Any] | None:
        table = self.records.get(kind, {})
        if key.startswith("eid:"):
            return next((r for r in table.values() if r.get("externalId") == key[4:]), None)
        return table.get(key)

    def _apply(
        self, op: str, kind: str, key: str | None, body: Any, replace: set[str] | None = None
    ) -> tuple[int, Any, str | None]:
        """Run one record operation; returns (status, body or record, record location)."""
        if kind not in self.records or (op != "read" and kind not in WRITABLE):
            return 404, _body(self, 404, "INVALID_RCRD_TYPE", f"Record type '{kind}' does not exist."), None
        existing = self._find(kind, key) if key else None
        if op == "read":
            if existing is None:
                return (
                    404,
                    _body(self, 404, "NONEXISTENT_ID", f"Record {key} of type {kind} not found."),
                    None,
                )
            return 200, existing, None
        if op == "upsert" and not (key or "").startswith("eid:"):
            return 400, _body(self, 400, "INVALID_REQUEST", "Upsert needs eid:<externalId> in the URL."), None
        external_id = (key or "")[4:] if op == "upsert" else (body or {}).get("externalId")
        if external_id is not None and not rules.EXTERNAL_ID.match(str(external_id)):
            return 400, _body(self, 400, "INVALID_ID", f"Invalid external ID: {external_id}."), None
        if op == "update" and existing is None:
            return 404, _body(self, 404, "NONEXISTENT_ID", f"Record {key} of type {kind} not found."), None
        if not isinstance(body, dict):
            return 400, _body(self, 400, "INVALID_CONTENT", "The request body must be a JSON object."), None
        if op == "create" and body.get("externalId") and self._find(kind, f"eid:{body['externalId']}"):
            return 400, _body(self, 400, "USER_ERROR", "A record with this external ID already exists."), None
        merged = rules.merge(kind, existing, body, replace or set())
        if op == "upsert":
            merged["externalId"] = key[4:]  # type: ignore[index]
        problem = rules.validate(kind, merged)
        if problem:
            return 400, _body(self, 400, "INVALID_CONTENT", problem[1], problem[0]), None
        refused = rules.problem(self.records, kind, merged)
        if refused:
            return 400, _body(self, 400, refused[1], refused[2], refused[0]), None
        if kind == "invoice":
            rules.totals(self.records, merged)
        if existing is None:
            self._next_id += 1
            merged["id"] = str(self._next_id)
        self.records[kind][merged["id"]] = merged
        self.remember(
            op,
            type=kind,
            id=merged["id"],
            externalId=merged.get("externalId"),
            created=existing is None,
            body=body,
        )
        return 204, merged, f"{RECORD}/{kind}/{merged['id']}"


def _body(_: NetSuiteSim, status: int, code: str, message: str, path: str | None = None) -> dict[str, Any]:
    return rules.error_json(status, code, message, path)
