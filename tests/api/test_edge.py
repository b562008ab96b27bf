"""The server's edge, on SQLite and PostgreSQL: body size, crafted text, and security headers.

Findings 5 (no request size limit, unbounded text), 6 (5xx on crafted input) and 15 (no
security headers; /docs from a CDN) of the security issue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import orjson
import pytest

from handoffs.api import ApiSettings, create_app
from tests.api.conftest import Api, auth, idem
from tests.api.servers import serve_api

OBJECTS = "/v1/system/objects"
HEADERS = {
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
}


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    return body


def _exception_id(api: Api) -> int:
    """An open validation exception (a time entry that fails to load)."""
    report = api.post(OBJECTS, {"records": [{"type": "time_entry", "id": "TE-BAD", "hours": "n/a"}]})
    assert report.status_code == 200 and report.json()["failed"] == 1, report.text
    with api.hub.uow() as uow:
        return max(x.id for x in uow.exceptions.list(category="validation"))


# finding 5: request size -------------------------------------------------------------------


def test_finding_5_oversized_body_is_413_before_authentication(api: Api) -> None:
    body = b"grant_type=client_credentials&client_secret=" + b"x" * (1024 * 1024 + 1)
    r = api.http.post(
        "/v1/oauth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    _problem(r, 413)
    assert _problem(api.post(OBJECTS, {"records": [{"type": "customer", "x": "y" * 3000}] * 400}), 413)


def _chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    yield b'{"records": [{"type": "customer", "pad": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}]}'


def test_finding_5_chunked_body_without_length_is_cut_off_at_the_limit(api: Api) -> None:
    settings = ApiSettings.from_env({"HANDOFFS_MAX_REQUEST_BYTES": "4096"})
    assert settings.max_request_bytes == 4096
    with serve_api(create_app(api.hub, settings)) as base, httpx.Client(base_url=base, timeout=30) as http:
        r = http.post(
            OBJECTS,
            content=_chunks(8192),
            headers={**auth(api.admin, idem()), "Content-Type": "application/json"},
        )
        assert "content-length" not in {k.lower() for k in r.request.headers}  # sent chunked
        _problem(r, 413)
        token = http.post("/v1/oauth/token", content=_chunks(8192), headers={"Content-Type": "text/plain"})
        _problem(token, 413)  # unauthenticated too
        small = http.post(
            OBJECTS,
            content=_chunks(1024),
            headers={**auth(api.admin, idem()), "Content-Type": "application/json"},
        )
        assert small.status_code == 200, small.text  # under the limit: read as usual
    with pytest.raises(ValueError):
        ApiSettings.from_env({"HANDOFFS_MAX_REQUEST_BYTES": "many"})


def test_finding_5_text_fields_have_length_limits(api: Api) -> None:
    long_id = "TE-" + "9" * 5000
    _problem(api.post("/v1/process/time-approvals", {"entry_ids": [long_id]}), 422)
    _problem(api.post("/v1/process/time-approvals", {"entry_ids": ["TE-1"], "approved_by": "a" * 129}), 422)
    _problem(api.post(OBJECTS, {"records": [{"type": "customer", "note": "n" * 4001}]}), 422)
    _problem(api.post(OBJECTS, {"records": [{"type": "customer", "k" * 129: 1}]}), 422)
    _problem(api.post(OBJECTS, {"records": [{"type": "customer", "source_version": "v" * 129}]}), 422)
    spec = api.app.openapi()["components"]["schemas"]
    assert spec["ApprovalIn"]["properties"]["entry_ids"]["items"]["maxLength"] == 128
    assert spec["RecordIn"]["propertyNames"]["maxLength"] == 128
    assert spec["RecordIn"]["additionalProperties"] == {"$ref": "#/components/schemas/JsonValue"}


# finding 6: crafted input is a 4xx problem -------------------------------------------------


def test_finding_6_nul_in_ids_reasons_and_filters_is_4xx(api: Api) -> None:
    exception_id = _exception_id(api)
    _problem(api.get("/v1/system/objects/customer/C-001%00x"), 400)
    _problem(api.get("/v1/experience/clients/C%00/invoices"), 400)
    _problem(api.get("/v1/subscriptions/s1/deliveries", status="dead\x00"), 400)
    for path in ("ignore", "retry", "replay"):
        r = api.post(f"/v1/process/exceptions/{exception_id}/{path}", {"reason": "because\x00"})
        _problem(r, 422)
    _problem(api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001\x00"]}), 422)
    _problem(api.post("/v1/process/replays", {"correlation_id": "project:P-001\x00"}), 422)
    _problem(api.post(OBJECTS, {"records": [{"type": "customer", "id": "C-9", "name": "a\x00b"}]}), 422)
    _problem(api.post(OBJECTS, {"records": [{"type": "customer", "id\x00": "C-9"}]}), 422)
    with api.hub.uow() as uow:
        assert uow.exceptions.get(exception_id).state == "open"


def test_finding_6_lone_surrogates_are_4xx(api: Api) -> None:
    exception_id = _exception_id(api)

    def raw(path: str, text: str) -> httpx.Response:
        headers = {**auth(api.admin, idem()), "Content-Type": "application/json"}
        return api.http.post(path, content=text.encode(), headers=headers)

    _problem(raw(f"/v1/process/exceptions/{exception_id}/ignore", '{"reason": "x\\ud800"}'), 422)
    _problem(raw("/v1/process/time-approvals", '{"entry_ids": ["\\udfff"]}'), 422)
    _problem(raw(OBJECTS, '{"records": [{"type": "customer", "id": "C-9", "name": "\\ud800"}]}'), 422)
    _problem(raw(OBJECTS, '{"records": [{"type": "customer", "\\ud800": 1}]}'), 422)
    _problem(raw(OBJECTS, '{"records": [{"type": "customer", "source_version": "\\ud800"}]}'), 422)
    with api.hub.uow() as uow:
        assert uow.exceptions.get(exception_id).state == "open"


def test_finding_6_deeply_nested_json_in_extra_fields_is_4xx(api: Api) -> None:
    for depth in (17, 300, 5000):
        nested: object = "leaf"
        for _ in range(depth):
            nested = {"n": [nested]}
        body = (
            orjson.dumps({"records": [{"type": "customer", "id": "C-9", "extra": nested}]}, option=0)
            if depth < 200
            else None
        )
        text = (
            body.decode()
            if body
            else '{"records": [{"type": "customer", "extra": '
            + '{"n": [' * depth
            + '"leaf"'
            + "]}" * depth
            + "}]}"
        )
        r = api.http.post(
            OBJECTS,
            content=text.encode(),
            headers={**auth(api.admin, idem()), "Content-Type": "application/json"},
        )
        assert 400 <= r.status_code < 500, (depth, r.status_code)
        assert r.headers["content-type"] == "application/problem+json"
    ok = {"type": "customer", "id": "C-9", "extra": {"a": [{"b": {"c": [1, 2, {"d": "e"}]}}]}}
    assert api.post(OBJECTS, {"records": [ok]}).status_code == 200


# finding 15: security headers and /docs without a CDN --------------------------------------


def test_finding_15_security_headers_on_every_api_answer(api: Api) -> None:
    answers = [
        api.get("/v1/catalog"),
        api.get("/v1/system/objects/customer/C-001"),
        api.get("/v1/system/objects/customer/nope"),
        api.http.post("/v1/oauth/token", data={"grant_type": "password"}),
        api.get("/v1/system/objects/customer/C%00"),
        api.http.get("/openapi.json"),
        api.http.get("/docs"),
    ]
    for r in answers:
        assert set(r.headers) >= HEADERS, (r.request.url, r.status_code, dict(r.headers))
        csp = r.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"


def test_finding_15_docs_load_swagger_ui_from_the_package(api: Api) -> None:
    page = api.http.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/static/") for s in sources), sources
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), "an inline script"
    for src in sources:
        asset = api.http.get(src)
        assert asset.status_code == 200 and len(asset.content) > 100, src
    assert "SwaggerUIBundle" in api.http.get("/docs/static/swagger-ui-bundle.js").text
    redirect = api.http.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200 and '<script src="/docs/static/oauth2-redirect.js">' in redirect.text
