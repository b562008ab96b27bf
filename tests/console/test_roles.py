"""Roles, sessions and CSRF are enforced on the server, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re

import orjson
import pytest
from sqlalchemy import select

from handoffs.audit import entries, verify
from handoffs.store.tables import console_sessions, console_users
from tests.console.conftest import Console, csrf_of, sign_in

PAGES = [
    "/console/",
    "/console/exceptions",
    "/console/exceptions/{x}",
    "/console/reconciliation",
    "/console/readiness",
    "/console/traces?correlation_id=project:P-001",
    "/console/kpis",
    "/console/connectors",
    "/console/catalog",
]


def test_anonymous_callers_are_sent_to_the_login_page(console: Console) -> None:
    http = console.client()
    assert http.get("/").headers["location"] == "/console/"
    for path in [*PAGES, "/console/users"]:
        response = http.get(path.format(x=console.firm.exception_id))
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/login"), path
    forged = http.post(f"/console/exceptions/{console.firm.exception_id}/ignore", data={"reason": "x"})
    assert forged.status_code == 303 and forged.headers["location"].startswith("/console/login")
    with console.hub.uow() as uow:
        assert uow.exceptions.get(console.firm.exception_id).state == "open"


def test_a_wrong_password_or_a_forged_cookie_does_not_sign_in(console: Console) -> None:
    http = console.client()
    form = http.get("/console/login")
    bad = http.post(
        "/console/login", data={"name": "otto", "password": "nope-nope", "csrf": csrf_of(form.text)}
    )
    assert bad.headers["location"].startswith("/console/login?error=bad")
    assert "handoffs_console=" not in bad.headers.get("set-cookie", "")
    http.cookies.set(
        "handoffs_console", "eyJ1IjoiYWRhIiwibiI6IngiLCJlIjo5OTk5OTk5OTk5fQ.forged", path="/console"
    )
    assert http.get("/console/").status_code == 303
    odd = console.client().get("/console/", headers={"Cookie": b"handoffs_console=\xc3\xa9.\xc3\xa9"})
    assert odd.status_code == 303  # not ASCII: refused like any forgery, not a server error
    no_token = console.client().post("/console/login", data={"name": "otto", "password": "operator-secret"})
    assert no_token.headers["location"].startswith("/console/login?error=stale")


def test_a_viewer_reads_every_page_but_cannot_act(console: Console) -> None:
    http = console.client()
    csrf = sign_in(http, "vera")
    x = console.firm.exception_id
    for path in PAGES:
        response = http.get(path.format(x=x))
        assert response.status_code == 200, (path, response.text[:300])
    detail = http.get(f"/console/exceptions/{x}").text
    assert 'data-testid="actions"' not in detail and "n/a" in detail  # the raw payload, no actions
    for action, form in [
        ("retry", {"reason": "try"}),
        ("ignore", {"reason": "noise"}),
        ("assign", {"owner": "vera"}),
        ("fix", {"raw": console.firm.good_line}),
    ]:
        response = http.post(f"/console/exceptions/{x}/{action}", data={**form, "csrf": csrf})
        assert response.status_code == 403, action
        assert "needs the operator role" in response.text
    assert http.get("/console/users").status_code == 403
    assert (
        http.post(
            "/console/users", data={"name": "eve", "role": "admin", "password": "x" * 12, "csrf": csrf}
        ).status_code
        == 403
    )
    with console.hub.uow() as uow:
        record = uow.exceptions.get(x)
        assert (record.state, record.owner) == ("open", None)
        assert (
            uow.connection.execute(select(console_users.c.name).where(console_users.c.name == "eve")).first()
            is None
        )


def test_an_operator_needs_the_sessions_csrf_token(console: Console) -> None:
    http = console.client()
    csrf = sign_in(http, "otto")
    x = console.firm.exception_id
    for token in (None, "", csrf[:-2] + "xx", "é" + csrf):
        data = {"owner": "otto"} | ({} if token is None else {"csrf": token})
        response = http.post(f"/console/exceptions/{x}/assign", data=data)
        assert response.status_code == 403 and "security token" in response.text
    other = console.client()
    sign_in(other, "ada")  # another session's token is not this one's
    assert (
        http.post(
            f"/console/exceptions/{x}/assign",
            data={"owner": "otto", "csrf": csrf_of(other.get("/console/").text)},
        ).status_code
        == 403
    )
    with console.hub.uow() as uow:
        assert uow.exceptions.get(x).owner is None
    done = http.post(f"/console/exceptions/{x}/assign", data={"owner": "otto", "csrf": csrf})
    assert done.status_code == 303
    with console.hub.uow() as uow:
        assert (uow.exceptions.get(x).owner, uow.exceptions.get(x).state) == ("otto", "in_progress")


def test_edit_and_retry_checks_the_record_then_resolves_and_audits(console: Console) -> None:
    http = console.client()
    csrf = sign_in(http, "otto")
    x = console.firm.exception_id
    broken = http.post(f"/console/exceptions/{x}/fix", data={"raw": "{not json", "csrf": csrf})
    assert broken.status_code == 422 and "not valid JSON" in broken.text and "{not json" in broken.text
    still = http.post(f"/console/exceptions/{x}/fix", data={"raw": console.firm.bad_line, "csrf": csrf})
    assert still.status_code == 422 and "is not a decimal" in still.text
    with console.hub.uow() as uow:
        assert uow.exceptions.get(x).state == "open"
        assert len(uow.exceptions.list(category="validation")) == 1  # nothing was loaded
    fixed = http.post(f"/console/exceptions/{x}/fix", data={"raw": console.firm.good_line, "csrf": csrf})
    assert fixed.status_code == 303
    page = http.get(fixed.headers["location"]).text
    assert "resolved" in page and 'data-testid="actions"' not in page
    with console.hub.uow() as uow:
        assert uow.exceptions.get(x).state == "resolved"
        assert uow.time_entries.get(orjson.loads(console.firm.good_line)["id"]) is not None
        audit = entries(uow.connection, limit=5, target=f"exception:{x}")
        assert [(a.actor, a.action) for a in audit] == [("console:otto", "console.fix_exception")]
        assert verify(uow.connection)[1] == []
    again = http.post(f"/console/exceptions/{x}/ignore", data={"reason": "late", "csrf": csrf})
    assert again.status_code == 422 and "already resolved" in again.text


def test_ignore_needs_a_reason_and_is_audited(console: Console) -> None:
    http = console.client()
    csrf = sign_in(http, "otto")
    x = console.firm.exception_id
    assert http.post(f"/console/exceptions/{x}/ignore", data={"reason": " ", "csrf": csrf}).status_code == 422
    assert (
        http.post(
            f"/console/exceptions/{x}/ignore", data={"reason": "duplicate of a fixed line", "csrf": csrf}
        ).status_code
        == 303
    )
    with console.hub.uow() as uow:
        record = uow.exceptions.get(x)
        assert (record.state, record.resolution) == ("ignored", "duplicate of a fixed line")
        (row,) = entries(uow.connection, limit=5, target=f"exception:{x}")
        assert (row.actor, row.action, row.after["state"]) == (
            "console:otto",
            "console.ignore_exception",
            "ignored",
        )


def test_an_admin_manages_users_and_a_changed_role_counts_at_once(console: Console) -> None:
    admin, viewer = console.client(), console.client()
    csrf = sign_in(admin, "ada")
    sign_in(viewer, "vera")
    refused = admin.post(
        "/console/users", data={"name": "eve", "role": "operator", "password": "short", "csrf": csrf}
    )
    assert refused.status_code == 422 and 'class="flash bad"' in refused.text  # why, on the page itself
    assert (
        admin.post(
            "/console/users",
            data={"name": "eve", "role": "operator", "password": "long-enough-phrase", "csrf": csrf},
        ).headers["location"]
        == "/console/users?done=added"
    )
    sign_in(console.client(), "eve", "long-enough-phrase")
    assert admin.post("/console/users/vera/role", data={"role": "operator", "csrf": csrf}).status_code == 303
    page = viewer.get(f"/console/exceptions/{console.firm.exception_id}").text
    assert 'data-testid="actions"' in page  # vera's existing session now has the operator role
    assert admin.post("/console/users/vera/delete", data={"csrf": csrf}).status_code == 303
    assert viewer.get("/console/").status_code == 303  # a deleted user's session no longer counts
    assert "cannot delete yourself" in admin.post("/console/users/ada/delete", data={"csrf": csrf}).text


def test_finding_7_the_password_policy_holds_on_the_users_page(console: Console) -> None:
    admin = console.client()
    csrf = sign_in(admin, "ada")
    for weak, why in [
        ("eleven-char", "at least 12 characters"),
        ("Password2024!", "too common"),
        ("iloveyou1234", "too common"),
        ("Eve.Adams2026", "not be the user name"),
    ]:
        refused = admin.post(
            "/console/users", data={"name": "eve.adams", "role": "viewer", "password": weak, "csrf": csrf}
        )
        assert refused.status_code == 422, weak  # the page again, saying why; nothing in the URL
        assert why in refused.text, weak
    with console.hub.uow() as uow:
        query = select(console_users.c.name).where(console_users.c.name == "eve.adams")
        assert uow.connection.execute(query).first() is None


def test_finding_10_logout_ends_the_session_on_the_server(console: Console) -> None:
    http = console.client()
    csrf = sign_in(http, "otto")
    cookie = http.cookies.get("handoffs_console")
    assert cookie
    assert http.post("/console/logout", data={"csrf": csrf}).headers["location"] == "/console/login"
    assert http.get("/console/").status_code == 303
    replay = console.client()  # someone who kept the cookie's value replays it
    replay.cookies.set("handoffs_console", cookie, path="/console")
    assert replay.get("/console/").status_code == 303
    x = console.firm.exception_id
    forged = replay.post(f"/console/exceptions/{x}/assign", data={"owner": "otto", "csrf": csrf})
    assert forged.status_code == 303 and forged.headers["location"].startswith("/console/login")
    with console.hub.uow() as uow:
        assert uow.exceptions.get(x).owner is None
        (row,) = uow.connection.execute(select(console_sessions)).all()
        assert row.user_name == "otto" and row.ended_at is not None and row.client == "testclient"
        assert [a.action for a in entries(uow.connection, limit=2, target="user:otto")] == [
            "console.logout",
            "console.login",
        ]


def test_sessions_are_kept_hashed_and_end_with_a_new_password(console: Console) -> None:
    from handoffs.console.auth import unsign
    from handoffs.console.users import set_password
    from handoffs.store.tables import api_secrets

    http, other = console.client(), console.client()
    sign_in(http, "vera")
    sign_in(other, "vera")
    cookie = http.cookies.get("handoffs_console")
    with console.hub.uow() as uow:
        rows = uow.connection.execute(select(console_sessions)).all()
        assert len(rows) == 2 and all(r.ended_at is None and r.expires_at > r.created_at for r in rows)
        stored = " ".join(str(v) for r in rows for v in r)
        names = uow.connection.execute(select(api_secrets.c.name)).scalars().all()
    assert "console-session" not in names  # the signing key is derived from the master secret
    secret = unsign(console.app.state.console, cookie)
    assert secret and secret not in stored and cookie not in stored
    assert hashlib.sha256(secret.encode()).hexdigest() in {r.id for r in rows}
    with console.hub.uow() as uow:
        assert set_password(uow.connection, "vera", "a fresh passphrase", uow.now)
        uow.commit()
    assert http.get("/console/").status_code == 303 and other.get("/console/").status_code == 303
    sign_in(http, "vera", "a fresh passphrase")
    assert http.get("/console/").status_code == 200


@pytest.mark.parametrize("level", ["firm", "entity", "project", "entry"])
def test_the_reconciliation_drill_down_reaches_the_entry(console: Console, level: str) -> None:
    http = console.client()
    sign_in(http, "vera")
    f = console.firm
    query = {
        "firm": f"period={f.period}",
        "entity": f"period={f.period}&entity={f.entity}",
        "project": f"period={f.period}&entity={f.entity}&project={f.project}",
        "entry": f"period={f.period}&entity={f.entity}&project={f.project}&source=time_entry:{f.late_entry}",
    }[level]
    page = http.get(f"/console/reconciliation?{query}").text
    expected = {
        "firm": f.entity,
        "entity": f.project,
        "project": f"time_entry:{f.late_entry}",
        "entry": "On no invoice line.",
    }
    assert expected[level] in page
    assert "not_billed" in page


def test_the_queue_shows_business_priority_groups_and_a_replay_preview(console: Console) -> None:
    http = console.client()
    csrf = sign_in(http, "otto")
    x = console.firm.exception_id
    grouped = http.get("/console/exceptions?group_by=message&sort=money").text
    assert 'data-testid="groups"' in grouped and f"#{x}" in grouped
    partial = http.get(
        "/console/exceptions?state=resolved", headers={"HX-Request": "true", "HX-Target": "queue"}
    )
    assert partial.text.startswith('<div id="queue">') and "0 exception(s)" in partial.text
    preview = http.get(f"/console/exceptions/{x}/replay")
    assert preview.status_code == 422 and "no stored message to replay" in preview.text
    refused = http.post(f"/console/exceptions/{x}/replay", data={"reason": "again", "csrf": csrf})
    assert refused.status_code == 422
    with console.hub.uow() as uow:
        assert uow.exceptions.get(x).state == "open"


def test_a_trace_lists_the_flows_steps_in_time_order(console: Console) -> None:
    http = console.client()
    sign_in(http, "vera")
    page = http.get(f"/console/traces?correlation_id=project:{console.firm.project}").text
    assert 'data-testid="timeline"' in page and "event TimeEntryApproved" in page
    with console.hub.uow() as uow:
        from handoffs.console.reads import trace

        found = trace(uow, f"project:{console.firm.project}")
    assert sum(s["count"] for s in found["steps"]) == sum(found["kinds"].values()) > 0
    assert [s["at"] for s in found["steps"]] == sorted(s["at"] for s in found["steps"])
    assert "Nothing recorded" in http.get("/console/traces?correlation_id=project:none").text


def test_the_overview_shows_the_stores_numbers(console: Console) -> None:
    http = console.client()
    sign_in(http, "vera")
    page = http.get("/console/").text
    with console.hub.uow() as uow:
        queue = uow.queue.count_by_status()
        outstanding, _ = uow.queue.outstanding()
        open_count = len(uow.exceptions.list(state="open"))
    assert re.search(rf'data-testid="open-exceptions">{open_count}<', page)
    assert re.search(rf'data-testid="dead-letters">{queue.get("dead", 0)}<', page)
    assert re.search(rf'data-testid="queue-depth">{outstanding}<', page)
    assert open_count == 1 and outstanding == 1  # the late entry's approval waits for the worker
    assert 'data-testid="chart"' in page and "data-chart=" in page


def test_readiness_kpis_and_catalog_pages_show_what_the_hub_computes(console: Console) -> None:
    from handoffs.api.catalog import INTERFACES
    from handoffs.console.kpis import KPIS
    from handoffs.flows.readiness import period_readiness
    from handoffs.store.repositories.readiness import ReadinessReads

    http = console.client()
    sign_in(http, "vera")
    period = console.firm.period
    page = http.get(f"/console/readiness?period={period}").text
    with console.hub.uow() as uow:
        results = period_readiness(uow, ReadinessReads(uow.connection), console.hub.ports, period)
    assert results
    for r in results:
        assert f">{r.project_id}</a>" in page
        for reason in r.reasons:
            assert reason.code in page
    assert "Bad period" in http.get("/console/readiness?period=2026-13").text
    kpis = http.get("/console/kpis").text
    assert kpis.count('data-testid="kpi"') == len(KPIS)
    catalog = http.get("/console/catalog").text
    assert all(i.path in catalog for i in INTERFACES)
