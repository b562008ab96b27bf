"""A Salesforce REST API-like CRM: OAuth2 client credentials, SOQL query paging, upsert by external id."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import Response

from handoffs.simulator.faults import Drift
from handoffs.simulator.systems.common import NativeJSON, SimSystem
from handoffs.simulator.systems.soql import SoqlError, parse_soql

__all__ = ["SF_CLIENT_ID", "SF_CLIENT_SECRET", "SalesforceSim"]

SF_CLIENT_ID = "sim-salesforce-client"
SF_CLIENT_SECRET = "sim-salesforce-secret"  # noqa: S105 - a fixed credential of the simulator
SF_TOKEN = "00DSim000000000!sim-access-token"  # noqa: S105
API = "/services/data/v60.0"
EXTERNAL_ID_FIELDS = {"External_Id__c", "Id"}
# Custom fields the simulated org has beyond those its seed records carry: the one an admin
# creates for the hub's project id write-back (docs/connectors.md, "Write-backs").
CUSTOM_FIELDS = {"Opportunity": ("Project_Id__c",)}
# Fields Salesforce computes or stamps itself: an update naming one is refused with
# INVALID_FIELD_FOR_INSERT_UPDATE ("Unable to create/update fields: ...").
READ_ONLY_FIELDS = {
    "Id", "IsWon", "IsClosed", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp",
    "ForecastCategory",
}  # fmt: skip
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_PREFIX = {"Account": "001", "Opportunity": "006", "OpportunityLineItem": "00k"}


def _malform(record: dict[str, Any]) -> None:
    if "CloseDate" in record:
        record["CloseDate"] = "2025-02-30"
    else:
        record["SystemModstamp"] = "not-a-date"


_DRIFT = Drift(
    key="Id",
    renamed={"StageName": "Stage__c"},
    added={"Region__c": "EMEA"},
    droppable=("SystemModstamp",),
    malform=_malform,
)


def _stamp_value(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00"))


class SalesforceSim(SimSystem):
    """Simulated Salesforce: ``/services/oauth2/token``, ``query``, ``sobjects`` upsert and read."""

    name: ClassVar[str] = "salesforce"
    documented_limit: ClassVar[tuple[int, float] | None] = (15000, 86400.0)  # org-wide daily API requests
    throttle_status: ClassVar[int] = 403
    throttle_code: ClassVar[str] = "REQUEST_LIMIT_EXCEEDED"

    def __init__(self, seed_data: dict[str, list[dict[str, Any]]], **kwargs: Any) -> None:
        self.objects = {k: [copy.deepcopy(r) for r in v] for k, v in seed_data.items()}
        for sobject, names in CUSTOM_FIELDS.items():
            for record in self.objects.get(sobject, []):
                for name in names:
                    record.setdefault(name, None)  # a custom field with no value reads as null
        self.cursors: dict[str, list[dict[str, Any]]] = {}
        self._created = 0
        super().__init__(**kwargs)

    def error(self, status: int, code: str, message: str) -> Response:
        return NativeJSON([{"message": message, "errorCode": code}], status_code=status)

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {SF_TOKEN}"

    def routes(self, app: FastAPI) -> None:
        @app.post("/services/oauth2/token")
        async def token(request: Request) -> Response:
            # Parsed by hand: form parsing in Starlette needs python-multipart, not a dependency.
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            if (
                form.get("grant_type") != "client_credentials"
                or form.get("client_id") != SF_CLIENT_ID
                or form.get("client_secret") != SF_CLIENT_SECRET
            ):
                return NativeJSON(
                    {"error": "invalid_client", "error_description": "invalid client credentials"},
                    status_code=400,
                )
            base = str(request.base_url).rstrip("/")
            return NativeJSON(
                {
                    "access_token": SF_TOKEN,
                    "instance_url": base,
                    "token_type": "Bearer",
                    "id": f"{base}/id/00DSim000000000/005Sim000000001AAA",
                    "issued_at": "1744243200000",
                    "signature": "c2ltdWxhdGVk",
                }
            )

        @app.get(f"{API}/query")
        async def query(request: Request) -> Response:
            if not self._authorised(request):
                return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            return self._query(request.query_params.get("q", ""), request.headers.get("sforce-query-options"))

        @app.get(API + "/query/{locator}")
        async def query_more(locator: str, request: Request) -> Response:
            if not self._authorised(request):
                return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            cursor, _, offset = locator.rpartition("-")
            if cursor not in self.cursors or not offset.isdigit():
                return self.error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            return self._page(cursor, int(offset), int(self.cursors[cursor][0]["batch"]))

        @app.get(API + "/sobjects/{sobject}/describe")
        async def describe(sobject: str, request: Request) -> Response:
            if not self._authorised(request):
                return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            if sobject not in _PREFIX:
                return self.error(404, "NOT_FOUND", "The requested resource does not exist")
            return NativeJSON({"name": sobject, "fields": self._fields(sobject)})

        @app.get(API + "/sobjects/{sobject}/{record_id}")
        async def read(sobject: str, record_id: str, request: Request) -> Response:
            if not self._authorised(request):
                return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            found = [r for r in self.objects.get(sobject, []) if r["Id"] == record_id]
            if not found:
                return self.error(404, "NOT_FOUND", "The requested resource does not exist")
            return NativeJSON({"attributes": self._attributes(sobject, record_id), **found[0]})

        @app.patch(API + "/sobjects/{sobject}/{record_id}")
        async def update(sobject: str, record_id: str, request: Request) -> Response:
            if not self._authorised(request):
                return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            return self._update(sobject, record_id, await request.json())

        @app.patch(API + "/sobjects/{sobject}/{field}/{value}")
        async def upsert(sobject: str, field: str, value: str, request: Request) -> Response:
            if not self._authorised(request):
                return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            return self._upsert(sobject, field, value, await request.json())

    def _attributes(self, sobject: str, record_id: str) -> dict[str, str]:
        return {"type": sobject, "url": f"{API}/sobjects/{sobject}/{record_id}"}

    def _query(self, text: str, options: str | None) -> Response:
        try:
            q = parse_soql(text)
        except SoqlError as exc:
            return self.error(400, exc.code, str(exc))
        if q.object not in self.objects:
            return self.error(400, "INVALID_TYPE", f"sObject type '{q.object}' is not supported.")
        records = self.objects[q.object]
        known = {k.lower(): k for r in records[:1] for k in r} or {"id": "Id"}
        for name in (*q.fields, *(w[0] for w in q.where), *([q.order] if q.order else [])):
            if name.lower() not in known:
                return self.error(400, "INVALID_FIELD", f"No such column '{name}' on entity '{q.object}'.")
        rows = [r for r in records if all(_matches(r.get(known[f.lower()]), op, v) for f, op, v in q.where)]
        if q.order:
            key = known[q.order.lower()]
            rows.sort(key=lambda r: (r.get(key) is None, r.get(key), r["Id"]), reverse=q.descending)
        if q.limit is not None:
            rows = rows[: q.limit]
        batch = 2000
        if options and "batchsize=" in options.lower():
            batch = max(200, min(2000, int(options.lower().split("batchsize=")[1].split(",")[0])))
        fields = [known[f.lower()] for f in q.fields]
        self._created += 1
        cursor = f"01gSim{self._created:012d}"
        shaped = [
            {"attributes": self._attributes(q.object, r["Id"]), **{f: r.get(f) for f in fields}} for r in rows
        ]
        self.cursors[cursor] = [{"batch": batch, "total": len(shaped)}, *shaped]
        return self._page(cursor, 0, batch)

    def _page(self, cursor: str, offset: int, batch: int) -> Response:
        rows = self.cursors[cursor][1:]
        chunk = rows[offset : offset + batch]
        done = offset + batch >= len(rows)
        body: dict[str, Any] = {
            "totalSize": len(rows),
            "done": done,
            "records": self.faults.mangle(chunk, _DRIFT),
        }
        if not done:
            body["nextRecordsUrl"] = f"{API}/query/{cursor}-{offset + batch}"
        return NativeJSON(body)

    def _fields(self, sobject: str) -> list[dict[str, Any]]:
        """``describe``'s field list, reduced to name, custom and updateable."""
        names = {k for r in self.objects.get(sobject, [])[:1] for k in r} | set(
            CUSTOM_FIELDS.get(sobject, ())
        )
        return [
            {"name": n, "custom": n.endswith("__c"), "updateable": n not in READ_ONLY_FIELDS}
            for n in sorted(names)
        ]

    def _update(self, sobject: str, record_id: str, body: Any) -> Response:
        """Update a record by Id (REST API "Update a Record"): 204 with no body; a field the
        object lacks, or one Salesforce sets itself, refuses the whole update."""
        if sobject not in _PREFIX:
            return self.error(404, "NOT_FOUND", "The requested resource does not exist")
        if not _ID.fullmatch(record_id):
            return self.error(400, "MALFORMED_ID", f"{sobject} ID: id value of incorrect type: {record_id}")
        found = [r for r in self.objects.get(sobject, []) if r["Id"] == record_id]
        if not found:
            return self.error(404, "NOT_FOUND", "The requested resource does not exist")
        if not isinstance(body, dict) or not body:
            return self.error(400, "JSON_PARSER_ERROR", "The request body must be a JSON object of fields")
        unknown = [k for k in body if k not in found[0]]
        if unknown:
            return self.error(
                400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject}"
            )
        locked = sorted(k for k in body if k in READ_ONLY_FIELDS)
        if locked:
            return self.error(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or permission set.",
            )
        text = self.now().strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        found[0].update(body, LastModifiedDate=text, SystemModstamp=text)
        self.remember("update", object=sobject, id=record_id, body=body)
        return Response(status_code=204)

    def _upsert(self, sobject: str, field: str, value: str, body: Any) -> Response:
        if sobject not in _PREFIX:
            return self.error(404, "NOT_FOUND", f"The requested resource does not exist: {sobject}")
        if field not in EXTERNAL_ID_FIELDS:
            return self.error(
                404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field}"
            )
        if not isinstance(body, dict) or field in body or "Id" in body:
            return self.error(400, "INVALID_FIELD", f"The external ID field {field} belongs in the URL only")
        records = self.objects.setdefault(sobject, [])
        matches = [r for r in records if r.get(field) == value]
        stamp = self.now()  # a logical clock keeps runs deterministic
        text = stamp.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        if len(matches) > 1:
            return NativeJSON([f"{API}/sobjects/{sobject}/{r['Id']}" for r in matches], status_code=300)
        body = {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in body.items()}
        if matches:
            matches[0].update(body, LastModifiedDate=text, SystemModstamp=text)
            self.remember("upsert", object=sobject, field=field, value=value, created=False, body=body)
            return Response(status_code=204)
        record_id = f"{_PREFIX[sobject]}Sim{900000000 + len(records):09d}AAA"
        records.append(
            {
                "Id": record_id,
                field: value,
                **body,
                "IsDeleted": False,
                "CreatedDate": text,
                "LastModifiedDate": text,
                "SystemModstamp": text,
            }
        )
        self.remember("upsert", object=sobject, field=field, value=value, created=True, body=body)
        return NativeJSON({"id": record_id, "success": True, "errors": [], "created": True}, status_code=201)


def _matches(actual: Any, op: str, expected: Any) -> bool:
    left: Any
    right: Any
    if isinstance(expected, tuple) and expected[0] == "datetime":
        if actual is None:
            return False
        left, right = _stamp_value(str(actual)), _stamp_value(expected[1])
    elif isinstance(expected, tuple):
        left, right = str(actual), expected[1]
    elif isinstance(expected, Decimal) and actual is not None:
        left, right = Decimal(str(actual)), expected
    else:
        left, right = actual, expected
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    return bool({">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op])
