"""End to end in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

The console runs on uvicorn on a free 127.0.0.1 port, over a hub with an exception to
triage and a reconciliation break (``conftest.seed_firm``). Screenshots of each step go to
``test-artifacts/console/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handoffs.api import create_app
from handoffs.bootstrap import App
from tests.api.servers import serve_api
from tests.console.conftest import PASSWORDS, Firm, seed_firm

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PG: test_roles.py
Site = tuple[str, Firm]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("the console's browser tests need Debian's chromium at /usr/bin/chromium in CI")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("the console's browser tests need Playwright (pip install -e '.[dev]') in CI")
        pytest.skip("Playwright is not installed (pip install -e '.[dev]')")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def site(hub: App) -> Iterator[Site]:
    firm = seed_firm(hub)
    with serve_api(create_app(hub)) as base:
        yield base, firm


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    refused: list[str] = []  # what the Content-Security-Policy blocked: the pages must need none of it
    tab.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    yield tab
    context.close()
    assert not refused, refused


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/console/exceptions")
    assert "/console/login" in page.url
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/exceptions")  # back where it was sent from


def test_an_operator_edits_and_retries_an_exception_until_it_is_resolved(
    site: Site, page: Any, hub: App
) -> None:
    base, firm = site
    sign_in(page, base, "otto")
    page.select_option("select[name=group_by]", "message")  # htmx swaps the queue in place
    page.wait_for_selector("[data-testid=groups]")
    assert "group_by=message" in page.url
    assert "validation" in page.inner_text("[data-testid=groups]")
    shot(page, "1-queue")
    page.select_option("select[name=state]", "resolved")
    page.wait_for_selector("#queue >> text=0 exception(s)")
    page.select_option("select[name=state]", "open")
    page.wait_for_selector("#queue >> text=1 exception(s)")
    page.click(f"a[href='/console/exceptions/{firm.exception_id}']")
    page.wait_for_selector("[data-testid=raw-editor]")
    assert page.inner_text("[data-testid=state]") == "open"
    editor = page.locator("[data-testid=raw-editor]")
    editor.fill(firm.bad_line.replace('"n/a"', '"four"'))  # still not a number
    page.click("[data-testid=fix]")
    page.wait_for_selector("[data-testid=flash]")
    assert "is not valid" in page.inner_text("[data-testid=flash]")
    assert '"four"' in page.locator("[data-testid=raw-editor]").input_value()  # the edit is kept
    shot(page, "2-still-invalid")
    page.locator("[data-testid=raw-editor]").fill(firm.good_line)
    page.click("[data-testid=fix]")
    page.wait_for_selector("[data-testid=state]:has-text('resolved')")
    assert "resolved" in page.inner_text("[data-testid=flash]")
    assert page.locator("[data-testid=actions]").count() == 0
    assert page.url.endswith(f"/console/exceptions/{firm.exception_id}?done=fixed")  # the address bar follows
    shot(page, "3-resolved")
    with hub.uow() as uow:
        assert uow.exceptions.get(firm.exception_id).state == "resolved"
        assert uow.exceptions.list(state="open") == []


def test_a_viewer_drills_down_a_reconciliation_break(site: Site, page: Any) -> None:
    base, firm = site
    sign_in(page, base, "vera")
    page.click("nav >> text=Reconciliation")
    page.wait_for_selector("[data-testid=entities]")
    assert "not_billed 1" in page.inner_text("[data-testid=entities]")
    page.click(f"[data-testid=entities] >> text={firm.entity}")
    page.wait_for_selector("[data-testid=projects]")
    page.click(f"[data-testid=projects] >> text={firm.project}")
    page.wait_for_selector("[data-testid=entries]")
    row = page.inner_text("[data-testid=entries]")
    assert f"time_entry:{firm.late_entry}" in row and "not_billed" in row
    page.click(f"[data-testid=entries] >> text=time_entry:{firm.late_entry}")
    page.wait_for_selector("[data-testid=entry-fields]")
    assert "not_billed" in page.inner_text("[data-testid=entry-breaks]")
    assert firm.late_entry in page.inner_text("[data-testid=entry-fields]")
    crumbs = page.inner_text("[data-testid=crumbs]")
    assert re.search(rf"{firm.entity}\s*/\s*{firm.project}\s*/\s*time_entry:{firm.late_entry}", crumbs)
    shot(page, "4-reconciliation-entry")


def test_a_viewer_sees_no_actions_and_a_forged_post_is_refused(site: Site, page: Any, hub: App) -> None:
    base, firm = site
    sign_in(page, base, "vera")
    page.goto(f"{base}/console/exceptions/{firm.exception_id}")
    page.wait_for_selector("[data-testid=raw]")
    assert page.locator("[data-testid=actions]").count() == 0
    assert page.locator("textarea, button[data-testid]").count() == 0
    shot(page, "5-viewer-exception")
    token = page.locator("header input[name=csrf]").get_attribute("value")  # the viewer's own, valid token
    for action, form in [("fix", {"raw": firm.good_line}), ("ignore", {"reason": "forged"})]:
        response = page.request.post(
            f"{base}/console/exceptions/{firm.exception_id}/{action}", form={**form, "csrf": token}
        )
        assert response.status == 403, action
        assert "needs the operator role" in response.text()
    with hub.uow() as uow:
        record = uow.exceptions.get(firm.exception_id)
        assert (record.state, record.resolution) == ("open", None)


def test_finding_15_swagger_ui_renders_offline_under_the_security_policy(site: Site, page: Any) -> None:
    base, _ = site
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    page.goto(f"{base}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Handoffs API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag")  # the operations were read from /openapi.json
    shot(page, "6-api-docs")
    assert outside == []  # nothing from a CDN
