"""The console's edge, on SQLite and PostgreSQL: crafted addresses, banners, security headers.

Findings 6 (5xx on out-of-range ids and NUL), 14 (free text from the URL shown as a success
banner) and 15 (no Content-Security-Policy; inline styles) of the security issue.
"""

from __future__ import annotations

import re

from tests.console.conftest import Console, sign_in
from tests.console.test_roles import PAGES

HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")


def _error_page(response, status: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-testid="error"' in response.text


def test_finding_6_out_of_range_ids_and_nul_are_console_4xx_pages(console: Console) -> None:
    http = console.client()
    csrf = sign_in(http, "otto")
    for bad in ("99999999999999999999", "9223372036854775808", "0", "-1"):
        _error_page(http.get(f"/console/exceptions/{bad}"), 404)
        _error_page(http.get(f"/console/exceptions/{bad}/replay"), 404)
        _error_page(http.post(f"/console/exceptions/{bad}/ignore", data={"reason": "x", "csrf": csrf}), 404)
    for unknown in ("/console/nope", "/console/exceptions/abc", "/console/exceptions/1/nothing"):
        _error_page(http.get(unknown), 404)  # a console page, not problem+json
    assert "There is no console page" in http.get("/console/nope").text
    assert http.get("/v1/nope").headers["content-type"].startswith("application/problem+json")
    _error_page(http.get("/console/exceptions?category=validation%00"), 400)
    _error_page(http.get("/console/traces?correlation_id=project:P-001%00"), 400)
    _error_page(http.get("/console/reconciliation?entity=LE-US%00"), 400)
    x = console.firm.exception_id
    _error_page(http.post(f"/console/exceptions/{x}/ignore", data={"reason": "why\x00", "csrf": csrf}), 400)
    _error_page(http.post(f"/console/exceptions/{x}/assign", data={"owner": "o\x00", "csrf": csrf}), 400)
    with console.hub.uow() as uow:
        record = uow.exceptions.get(x)
        assert record.state == "open" and record.owner is None


def test_finding_14_success_banners_come_from_codes_never_from_the_url(console: Console) -> None:
    http = console.client()
    csrf = sign_in(http, "ada")
    x = console.firm.exception_id
    crafted = http.get(f"/console/exceptions/{x}", params={"ok": 1, "msg": "Your session expired: call 555"})
    assert crafted.status_code == 200
    assert "call 555" not in crafted.text and 'data-testid="flash"' not in crafted.text
    unknown = http.get(f"/console/exceptions/{x}", params={"done": "Your session expired"})
    assert "Your session expired" not in unknown.text and 'data-testid="flash"' not in unknown.text
    users = http.get("/console/users", params={"ok": 1, "msg": "Send your password to eve"})
    assert "Send your password" not in users.text and 'data-testid="flash"' not in users.text

    assigned = http.post(f"/console/exceptions/{x}/assign", data={"owner": "ops-team", "csrf": csrf})
    assert assigned.status_code == 303
    assert assigned.headers["location"] == f"/console/exceptions/{x}?done=assigned"
    banner = http.get(assigned.headers["location"]).text
    assert re.search(r'data-testid="flash">Exception \d+ is owned by ops-team\.<', banner)
    added = http.post(
        "/console/users",
        data={"name": "erin", "role": "viewer", "password": "a-long-passphrase-9", "csrf": csrf},
    )
    assert added.status_code == 303 and added.headers["location"] == "/console/users?done=added"
    assert 'data-testid="flash">User added.<' in http.get(added.headers["location"]).text
    refused = http.post("/console/users/ada/delete", data={"csrf": csrf})
    assert refused.status_code == 422 and "You cannot delete yourself." in refused.text


def test_finding_15_console_answers_carry_security_headers_and_no_inline_code(console: Console) -> None:
    http = console.client()
    login = http.get("/console/login")
    sign_in(http, "ada")
    pages = [login] + [
        http.get(p.format(x=console.firm.exception_id))
        for p in [*PAGES, "/console/users", f"/console/exceptions/{console.firm.exception_id}/replay"]
    ]
    pages.append(http.get("/console/static/console.css"))
    pages.append(http.get("/console/exceptions/99999999999999999999"))
    for r in pages:
        assert all(h in r.headers for h in HEADERS), (r.request.url, dict(r.headers))
        csp = r.headers["content-security-policy"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert re.search(r"\bstyle-src 'self'(;|$)", csp) and re.search(r"\bscript-src 'self'(;|$)", csp)
        if r.headers["content-type"].startswith("text/html"):
            html = r.text
            assert " style=" not in html and "<style" not in html, (r.request.url, "inline style")
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), (r.request.url, "inline script")
            assert not re.search(r"\son[a-z]+=", html), (r.request.url, "inline event handler")
