"""Every route against every kind of caller: none, wrong scope, another entity, revoked, valid.

The test fails when a route exists that the matrix does not list, so new routes join it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from handoffs.api.clients import revoke_key
from handoffs.engine.relay import attach, relay_handlers
from handoffs.engine.relay_webhook import WebhookSender
from handoffs.flows.ingest import ingest_lines
from handoffs.store.tables import invoice_lines, messages
from tests.api.conftest import ALL_SCOPES, LOCAL, Api, auth, idem, make_key
from tests.api.invoices import invoice
from tests.api.servers import subscriber

PUBLIC = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/v1/catalog", "/v1/scopes"}


@dataclass
class Case:
    method: str
    route: str
    scope: str | None  # None: public, or authenticated otherwise (token endpoint, signed webhook)
    body: Any = None
    entity_bound: bool = True  # another entity's client gets 404
    firm_wide: bool = False  # an entity-scoped client gets 403
    ok: tuple[int, ...] = (200,)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.route.format(**self.params)


def _world(api: Api) -> dict[str, str]:
    """An invoice with lines, four exceptions, a subscription and a stored event, all of LE-US."""
    r = api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001", "TE-00000002"]})
    assert r.status_code == 200, r.text
    api.hub.worker(sleep=lambda s: None).run(until_idle=True)
    with api.hub.uow() as uow:
        line = uow.connection.execute(select(invoice_lines.c.id, invoice_lines.c.invoice_id)).first()
        assert line is not None, "the flow made no invoice"
        event = uow.connection.execute(
            select(messages.c.message_id).where(messages.c.type == "TimeEntryApproved")
        ).scalar()
        ids = [
            uow.exceptions.add(
                category="dead_letter",
                source="consumer:x",
                reason="boom",
                raw="{}",
                work_id=10**9,
                object_type="time_entry",
                object_id="TE-00000003",
                correlation_id="project:P-001",
            )
            for _ in range(4)
        ]
        uow.commit()
    request = {"type": "resource_request", "id": "REQ-M1", "project_id": "P-001", "role": "analyst",
               "start_date": "2026-01-05", "end_date": "2026-01-30", "hours_per_week": "8"}  # fmt: skip
    ingest_lines([orjson.dumps(request).decode()], api.hub.uow, api.hub.ports, source="file:seed")
    r = api.post("/v1/subscriptions", {"kind": "webhook", "target": "http://127.0.0.1:9/hook"}, key=api.us)
    assert r.status_code == 201, r.text
    return {
        "invoice": line.invoice_id,
        "line": line.id,
        "retry": str(ids[0]),
        "ignore": str(ids[1]),
        "replay": str(ids[2]),
        "preview": str(ids[3]),
        "sub": r.json()["id"],
        "event": str(event),
    }


def _cases(w: dict[str, str]) -> list[Case]:
    s = w["sub"]
    return [
        Case(
            "POST",
            "/v1/system/objects",
            "system:write",
            {
                "records": [
                    {
                        "type": "customer",
                        "id": "C-001",
                        "name": "Client One",
                        "legal_entity_id": "LE-US",
                        "currency": "USD",
                    }
                ]
            },
        ),
        Case(
            "GET", "/v1/system/objects/{type}/{id}", "system:read", params={"type": "project", "id": "P-001"}
        ),
        Case(
            "POST",
            "/v1/system/webhooks/{system}/secret",
            "system:write",
            {},
            entity_bound=False,
            firm_wide=True,
            params={"system": "harvest"},
        ),
        Case("POST", "/v1/process/time-approvals", "process:write", {"entry_ids": ["TE-00000003"]}),
        Case(
            "POST",
            "/v1/process/invoice-runs",
            "process:write",
            {"project_id": "P-001", "period": "2026-01"},
            ok=(202,),
        ),
        Case(
            "POST",
            "/v1/process/exceptions/{exception_id}/retry",
            "process:write",
            {"reason": "fixed"},
            params={"exception_id": w["retry"]},
        ),
        Case(
            "POST",
            "/v1/process/exceptions/{exception_id}/ignore",
            "process:write",
            {"reason": "noise"},
            params={"exception_id": w["ignore"]},
        ),
        Case(
            "GET",
            "/v1/process/exceptions/{exception_id}/replay-preview",
            "process:write",
            params={"exception_id": w["preview"]},
        ),
        Case(
            "POST",
            "/v1/process/exceptions/{exception_id}/replay",
            "process:write",
            {"reason": "rate card fixed"},
            params={"exception_id": w["replay"]},
        ),
        Case("POST", "/v1/process/replays", "process:write", {"correlation_id": "project:P-001"}),
        Case(  # another entity's client selects none of them: 200 with nothing selected
            "POST",
            "/v1/process/exception-batches",
            "process:write",
            {"action": "ignore", "filter": {"category": "validation"}, "dry_run": True},
            entity_bound=False,
        ),
        Case(
            "POST",
            "/v1/process/resource-requests",
            "process:write",
            {
                "id": "REQ-M2",
                "project_id": "P-001",
                "role": "analyst",
                "start_date": "2026-01-05",
                "end_date": "2026-01-30",
                "hours_per_week": "8",
                "proposed_resource_id": "R-0004",
            },
            ok=(202,),
        ),
        Case(
            "POST",
            "/v1/process/resource-requests/{request_id}/assignments",
            "process:write",
            {"resource_id": "R-0004"},
            ok=(202,),
            params={"request_id": "REQ-M1"},
        ),
        Case(
            "GET",
            "/v1/experience/consultants/{resource_id}/timesheet",
            "experience:read",
            params={"resource_id": "R-0001"},
        ),
        Case(
            "GET",
            "/v1/experience/clients/{customer_id}/invoices",
            "experience:read",
            params={"customer_id": "C-001"},
        ),
        Case("GET", "/v1/experience/kpis", "experience:read", entity_bound=False),
        Case("GET", "/v1/experience/executive-kpis", "experience:read", entity_bound=False),
        Case(
            "GET",
            "/v1/experience/invoices/{invoice_id}/lines/{line_id}/lineage",
            "experience:read",
            params={"invoice_id": w["invoice"], "line_id": w["line"]},
        ),
        Case(
            "POST",
            "/v1/subscriptions",
            "events:manage",
            {"kind": "nats", "target": "handoffs.portal"},
            entity_bound=False,
            ok=(201,),
        ),
        Case("GET", "/v1/subscriptions", "events:manage", entity_bound=False),
        Case("GET", "/v1/subscriptions/{subscription_id}", "events:manage", params={"subscription_id": s}),
        Case(
            "GET",
            "/v1/subscriptions/{subscription_id}/deliveries",
            "events:manage",
            params={"subscription_id": s},
        ),
        Case(
            "POST",
            "/v1/subscriptions/{subscription_id}/redeliveries",
            "events:manage",
            {"message_id": w["event"]},
            ok=(202,),
            params={"subscription_id": s},
        ),
        Case("DELETE", "/v1/subscriptions/{subscription_id}", "events:manage", params={"subscription_id": s}),
        Case("GET", "/metrics", "metrics:read", entity_bound=False, firm_wide=True),
    ]


def _call(api: Api, case: Case, key: str | None) -> int:
    headers = auth(key) if key else {}
    if case.method == "POST":
        headers["Idempotency-Key"] = idem()
    r = api.http.request(case.method, case.path, headers=headers, json=case.body)
    ok_type = "text/plain" if case.route == "/metrics" else "application/json"  # Prometheus text format
    assert r.headers["content-type"].startswith(
        "application/problem+json" if r.status_code >= 400 else ok_type
    ), (case.path, r.status_code, r.headers["content-type"])
    return r.status_code


def test_auth_matrix(api: Api) -> None:
    attach(api.hub, relay_handlers([WebhookSender(policy=LOCAL)]))
    world = _world(api)
    cases = {(c.method, c.route): c for c in _cases(world)}
    paths = api.app.openapi()["paths"]
    routes = {(m.upper(), path) for path, ops in paths.items() for m in ops}
    special = {("POST", "/v1/oauth/token"), ("POST", "/v1/system/webhooks/{system}")}  # see their own tests
    listed = {k for k in routes if k[1] not in PUBLIC and k not in special}
    assert listed == set(cases), f"routes missing from the matrix: {listed - set(cases)}"

    everything = {
        s: make_key(
            api.hub, f"no-{s.replace(':', '-')}", [x for x in ALL_SCOPES if x != s], rate=1000, burst=1000
        )
        for s in ALL_SCOPES
    }
    uk = make_key(api.hub, "uk-portal", entities=["LE-UK"], rate=1000, burst=1000)
    revoked = make_key(api.hub, "gone", rate=1000, burst=1000)
    with api.hub.uow() as uow:
        assert revoke_key(uow, "operator:test", revoked.split("_")[2])
        uow.commit()

    results: list[tuple[str, str, str, int, tuple[int, ...]]] = []
    for (method, route), case in cases.items():
        expect = {
            "no credentials": (None, (401,)),
            "wrong scope": (everything[case.scope or ""], (403,)),
            "other entity": (uk, (404,) if case.entity_bound else (403,) if case.firm_wide else case.ok),
            "revoked key": (revoked, (401,)),
            "valid": (api.us if not case.firm_wide else api.admin, case.ok),
        }
        for label, (key, allowed) in expect.items():
            status = _call(api, case, key)
            results.append(
                (f"{method} {route}", label, "ok" if status in allowed else "FAIL", status, allowed)
            )
    for row in results:
        print(*row)
    failures = [r for r in results if r[2] != "ok"]
    assert not failures, failures
    assert len(results) == 5 * len(cases)


@pytest.mark.parametrize("path", sorted(PUBLIC - {"/docs/oauth2-redirect"}))
def test_public_routes_need_no_credentials(api: Api, path: str) -> None:
    assert api.http.get(path).status_code == 200


def _drain(api: Api) -> None:
    api.hub.worker(sleep=lambda s: None).run(until_idle=True)


def test_finding_11_redelivery_is_scoped_to_the_callers_entities_and_subscription(api: Api) -> None:
    """Two entities' clients, each with its own webhook: redelivery takes only an event of the
    caller's entity that its subscription takes, and sends it to that subscription alone."""
    sender = WebhookSender(policy=LOCAL)
    attach(api.hub, relay_handlers([sender]))
    uk = make_key(api.hub, "uk-portal", entities=["LE-UK"], rate=1000, burst=1000)
    with (
        subscriber(0) as (us_url, us_hook),
        subscriber(0) as (uk_url, uk_hook),
        subscriber(0) as (late_url, late),
    ):
        us_sub = api.post("/v1/subscriptions", {"kind": "webhook", "target": us_url}, key=api.us).json()["id"]
        uk_sub = api.post("/v1/subscriptions", {"kind": "webhook", "target": uk_url}, key=uk).json()["id"]
        api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001", "TE-90000001"]})
        _drain(api)
        us_event = next(e["id"] for e in _events(us_hook) if e.get("subject") == "TE-00000001")
        uk_event = next(e["id"] for e in _events(uk_hook) if e.get("subject") == "TE-90000001")

        # The UK client cannot pull a US event into its own subscription: it answers as a missing id.
        stolen = api.post(f"/v1/subscriptions/{uk_sub}/redeliveries", {"message_id": us_event}, key=uk)
        missing = api.post(f"/v1/subscriptions/{uk_sub}/redeliveries", {"message_id": "no-such-id"}, key=uk)
        assert (stolen.status_code, missing.status_code) == (409, 409)
        assert stolen.json()["detail"].replace(us_event, "X") == missing.json()["detail"].replace(
            "no-such-id", "X"
        )
        # Nor reach the US subscription, its deliveries or see it listed.
        for method, path in (
            ("POST", f"/v1/subscriptions/{us_sub}/redeliveries"),
            ("GET", f"/v1/subscriptions/{us_sub}/deliveries"),
            ("GET", f"/v1/subscriptions/{us_sub}"),
            ("DELETE", f"/v1/subscriptions/{us_sub}"),
        ):
            r = api.http.request(method, path, headers=auth(uk, idem()), json={"message_id": us_event})
            assert r.status_code == 404, (method, path, r.status_code)
        assert [s["id"] for s in api.get("/v1/subscriptions", key=uk).json()] == [uk_sub]
        assert (
            api.post(f"/v1/subscriptions/{uk_sub}/redeliveries", {"message_id": uk_event}, key=uk).status_code
            == 202
        )

        # A redelivery reaches only the subscription it names, not one made since.
        api.post("/v1/subscriptions", {"kind": "webhook", "target": late_url}, key=api.us)
        assert (
            api.post(
                f"/v1/subscriptions/{us_sub}/redeliveries", {"message_id": us_event}, key=api.us
            ).status_code
            == 202
        )
        _drain(api)
    sender.close()
    assert late.attempts == []
    assert [e["id"] for e in _events(us_hook)].count(us_event) == 2
    assert us_event not in [e["id"] for e in _events(uk_hook)]
    assert [e["id"] for e in _events(uk_hook)].count(uk_event) == 2


def _events(hook: Any) -> list[dict[str, Any]]:
    return [orjson.loads(body) for _, body in hook.accepted]


def _same_answer(a: Any, b: Any, a_id: str, b_id: str) -> bool:
    """Same status and text once the id asked for is masked: nothing tells them apart."""
    return a.status_code == b.status_code and a.json()["detail"].replace(a_id, "<id>") == b.json()[
        "detail"
    ].replace(b_id, "<id>")


def test_auth_matrix_import_and_lineage_answer_another_entity_like_a_missing_object(api: Api) -> None:
    """Clients of two legal entities, each against the other's objects and against missing ones."""
    uk = make_key(api.hub, "uk-portal", entities=["LE-UK"], rate=1000, burst=1000)
    own = {
        "LE-US": (api.us, "P-001", "TE-00000001", "INV-US"),
        "LE-UK": (uk, "P-901", "TE-90000001", "INV-UK"),
    }
    for entity, (_, project, entry, inv) in own.items():
        record = invoice(inv, [("time_entry", entry)], entity=entity, project=project)
        r = api.post("/v1/system/objects", {"records": [record]})
        assert r.status_code == 200 and r.json()["outcomes"] == {"inserted": 1}, r.text
    for entity, other in (("LE-US", "LE-UK"), ("LE-UK", "LE-US")):
        key, project, entry, inv = own[entity]
        _, their_project, their_entry, their_inv = own[other]
        # import: an invoice of my entity billing their entry, or an entry that does not exist
        theirs = invoice(f"{inv}-2", [("time_entry", their_entry)], entity=entity, project=project)
        missing = invoice(f"{inv}-2", [("time_entry", "TE-77777777")], entity=entity, project=project)
        a = api.post("/v1/system/objects", {"records": [theirs]}, key)
        b = api.post("/v1/system/objects", {"records": [missing]}, key)
        assert a.status_code == 404 and _same_answer(a, b, "", ""), (entity, a.text, b.text)
        # import: their project under my entity's name
        posing = invoice(f"{inv}-3", [("time_entry", their_entry)], entity=entity, project=their_project)
        assert api.post("/v1/system/objects", {"records": [posing]}, key).status_code == 404
        # import: writing their invoice, or one of an entity that does not exist
        a = api.post("/v1/system/objects", {"records": [invoice(their_inv, [], entity=other)]}, key)
        b = api.post("/v1/system/objects", {"records": [invoice(their_inv, [], entity="LE-XX")]}, key)
        assert a.status_code == 404 and _same_answer(a, b, "", ""), (entity, a.text, b.text)
        # lineage: their line, or a line of an invoice that does not exist
        path = "/v1/experience/invoices/{}/lines/{}-L1/lineage"
        a = api.get(path.format(their_inv, their_inv), key=key)
        b = api.get(path.format("INV-NONE", "INV-NONE"), key=key)
        assert a.status_code == 404 and _same_answer(a, b, their_inv, "INV-NONE"), (entity, a.text, b.text)
        mine = api.get(path.format(inv, inv), key=key)
        assert mine.status_code == 200 and [s["id"] for s in mine.json()["sources"]] == [entry]
    for _, _, entry, _ in own.values():
        with api.hub.uow() as uow:
            assert uow.time_entries.get(entry) is not None
        assert api.get(f"/v1/system/objects/time_entry/{entry}").json()["billing_state"] == "billed"
