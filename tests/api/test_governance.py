"""Idempotency keys, problem details, rate limits, tokens and deprecation headers."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handoffs.api import ApiSettings
from handoffs.api.clients import revoke_key, rotate_key
from handoffs.store.tables import audit_log, idempotency_keys, messages
from tests.api.conftest import Api, auth, make_key

APPROVE = "/v1/process/time-approvals"


def _count(api: Api, table) -> int:  # type: ignore[no-untyped-def]
    with api.hub.uow() as uow:
        return int(uow.connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_same_key_same_body_returns_the_stored_response(api: Api) -> None:
    first = api.post(APPROVE, {"entry_ids": ["TE-00000001"]}, idem_key="approve-1")
    events = _count(api, messages)
    again = api.post(APPROVE, {"entry_ids": ["TE-00000001"]}, idem_key="approve-1")
    assert first.status_code == again.status_code == 200
    assert (
        again.json()
        == first.json()
        == {"approved": ["TE-00000001"], "unchanged": [], "approvals_published": 1}
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(api, messages) == events  # nothing ran twice


def test_same_key_other_body_is_422_and_changes_nothing(api: Api) -> None:
    api.post(APPROVE, {"entry_ids": ["TE-00000001"]}, idem_key="approve-2")
    other = api.post(APPROVE, {"entry_ids": ["TE-00000002"]}, idem_key="approve-2")
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    with api.hub.uow() as uow:
        stored = uow.time_entries.get("TE-00000002")
        assert stored is not None and stored.entry.status == "submitted"


def test_errors_are_stored_but_validation_failures_are_not(api: Api) -> None:
    missing = api.post(APPROVE, {"entry_ids": ["TE-nope"]}, idem_key="approve-3")
    assert missing.status_code == 404
    assert api.post(APPROVE, {"entry_ids": ["TE-nope"]}, idem_key="approve-3").headers["Idempotent-Replayed"]
    before = _count(api, idempotency_keys)
    invalid = api.post(APPROVE, {"entry_ids": []}, idem_key="approve-4")
    assert invalid.status_code == 422
    assert _count(api, idempotency_keys) == before
    ok = api.post(APPROVE, {"entry_ids": ["TE-00000001"]}, idem_key="approve-4")  # the key is still free
    assert ok.status_code == 200


def test_every_post_needs_a_key_and_keys_are_kept_24_hours(api: Api) -> None:
    r = api.http.post(APPROVE, json={"entry_ids": ["TE-00000001"]}, headers=auth(api.admin))
    assert r.status_code == 422 and "Idempotency-Key" in r.text
    api.post(APPROVE, {"entry_ids": ["TE-00000001"]}, idem_key="approve-5")
    with api.hub.uow() as uow:
        row = uow.connection.execute(
            select(idempotency_keys).where(idempotency_keys.c.key == "approve-5")
        ).one()
    assert row.expires_at - row.created_at >= timedelta(hours=24)
    with pytest.raises(ValueError):
        ApiSettings(idempotency_keep=timedelta(hours=23))


def test_keys_are_per_client(api: Api) -> None:
    a = api.post(APPROVE, {"entry_ids": ["TE-00000001"]}, idem_key="shared")
    b = api.post(APPROVE, {"entry_ids": ["TE-00000001"]}, key=api.us, idem_key="shared")
    assert a.status_code == b.status_code == 200
    assert "Idempotent-Replayed" not in b.headers and b.json()["unchanged"] == ["TE-00000001"]


def test_problem_details_shape_and_no_internals(api: Api) -> None:
    for r in (
        api.http.get("/v1/experience/kpis"),
        api.get("/v1/system/objects/project/NOPE"),
        api.get("/v1/system/objects/not_a_type/x"),
        api.http.get("/v1/nowhere"),
        api.http.post(APPROVE, content=b"{not json", headers=auth(api.admin, "x1")),
    ):
        assert r.headers["content-type"] == "application/problem+json", r.text
        body = r.json()
        assert {"type", "title", "status", "detail", "instance"} <= set(body)
        assert body["status"] == r.status_code
        assert "Traceback" not in r.text and "hk_live_" not in r.text and "sqlalchemy" not in r.text.lower()


def test_unexpected_errors_are_a_bare_500(api: Api) -> None:
    api.hub.uow = None  # type: ignore[assignment]  # break the store under the API
    r = api.get("/v1/experience/kpis")
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "the server could not complete the request"
    assert "NoneType" not in r.text


def test_rate_limit_answers_429_with_headers(api: Api) -> None:
    key = make_key(api.hub, "tiny", rate=0.01, burst=2)
    first = api.get("/v1/experience/kpis", key=key)
    assert first.status_code == 200
    assert first.headers["RateLimit-Policy"] == '"client";q=2;w=200'
    assert first.headers["RateLimit"].startswith('"client";r=1;')
    api.get("/v1/experience/kpis", key=key)
    limited = api.get("/v1/experience/kpis", key=key)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["content-type"] == "application/problem+json"
    assert "RateLimit" in limited.headers
    assert api.get("/v1/experience/kpis").status_code == 200  # other clients have their own bucket


def test_oauth_client_credentials(api: Api) -> None:
    r = api.http.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "us-portal",
            "client_secret": api.us,
            "scope": "experience:read",
        },
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert r.json()["token_type"] == "Bearer" and token.count(".") == 2
    assert api.get("/v1/experience/kpis", key=token).status_code == 200
    assert api.get("/v1/system/objects/project/P-001", key=token).status_code == 403  # narrowed scope
    basic = base64.b64encode(f"us-portal:{api.us}".encode()).decode()
    r = api.http.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200
    bad = api.http.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "us-portal",
            "client_secret": "hk_live_x_wrong",
        },
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert api.get("/v1/experience/kpis", key=token[:-2] + "xx").status_code == 401


def test_rotation_and_revocation(api: Api) -> None:
    with api.hub.uow() as uow:
        new = rotate_key(uow, "operator:test", "us-portal")
        uow.commit()
    assert new.secret.startswith("hk_live_") and new.secret != api.us
    assert api.get("/v1/experience/kpis", key=new.secret).status_code == 200
    assert api.get("/v1/experience/kpis", key=api.us).status_code == 200  # both until the old one is revoked
    token = api.http.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "us-portal", "client_secret": api.us},
    ).json()["access_token"]
    with api.hub.uow() as uow:
        assert revoke_key(uow, "operator:test", api.us.split("_")[2])
        uow.commit()
    assert api.get("/v1/experience/kpis", key=api.us).status_code == 401
    assert api.get("/v1/experience/kpis", key=token).status_code == 401  # its tokens die with it
    assert api.get("/v1/experience/kpis", key=new.secret).status_code == 200


def test_deprecated_route_headers_and_catalog(api: Api) -> None:
    r = api.get("/v1/experience/executive-kpis")
    assert r.status_code == 200
    assert r.headers["Deprecation"].startswith("@") and r.headers["Sunset"].endswith("GMT")
    assert 'rel="successor-version"' in r.headers["Link"] and 'rel="sunset"' in r.headers["Link"]
    assert "Deprecation" not in api.get("/v1/experience/kpis").headers
    catalog = api.http.get("/v1/catalog").json()
    assert all({"owner", "version", "lifecycle"} <= set(i) for i in catalog)
    assert {i["name"]: i["lifecycle"] for i in catalog}["executive-kpis"] == "deprecated"
    spec = api.http.get("/openapi.json").json()
    assert spec["paths"]["/v1/experience/executive-kpis"]["get"]["deprecated"] is True


def test_every_state_change_is_audited(api: Api) -> None:
    before = _count(api, audit_log)
    api.post(APPROVE, {"entry_ids": ["TE-00000001"]})
    api.post("/v1/process/invoice-runs", {"project_id": "P-001", "period": "2026-01"})
    with api.hub.uow() as uow:
        rows = uow.connection.execute(
            select(audit_log).where(audit_log.c.seq > before).order_by(audit_log.c.seq)
        ).all()
    assert [(r.actor, r.action) for r in rows] == [
        ("client:admin", "process.approve_time"),
        ("client:admin", "process.generate_invoice"),
    ]
    assert '"TE-00000001":"approved"' in rows[0].after


def test_secrets_are_stored_hashed(api: Api) -> None:
    from handoffs.store.tables import api_keys

    with api.hub.uow() as uow:
        stored = [tuple(r) for r in uow.connection.execute(select(api_keys))]
    assert stored and not any(api.admin in str(v) for row in stored for v in row)
    assert {str(row[2]) for row in stored} >= {"hk_live_" + api.admin.split("_")[2]}  # the prefix identifies


def test_an_expired_key_is_forgotten(api: Api) -> None:
    from sqlalchemy import update

    api.post(APPROVE, {"entry_ids": ["TE-00000001"]}, idem_key="old")
    with api.hub.engine.begin() as conn:  # 24 hours and more later
        conn.execute(update(idempotency_keys).values(expires_at=idempotency_keys.c.created_at))
    r = api.post(APPROVE, {"entry_ids": ["TE-00000002"]}, idem_key="old")
    assert r.status_code == 200 and r.json()["approved"] == ["TE-00000002"]
    assert _count(api, idempotency_keys) == 1
