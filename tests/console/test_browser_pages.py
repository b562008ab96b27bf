"""The queue, bulk actions, charts and accessibility in a real headless Chromium.

axe-core (``tests/support/axe.min.js``) runs in every page against WCAG 2.1 A and AA: no
serious or critical violation may remain. Each page's screenshot is written to
``test-artifacts/console/console-<page>.png``; to refresh the docs' pictures, run with
``CONSOLE_SCREENSHOTS=docs/images`` and look at each one.
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
from tests.console.conftest import Firm, add_dead_letter, seed_firm
from tests.console.test_browser import browser, page, sign_in  # noqa: F401 - fixtures of this module too
from tests.support.flow import load

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PG: test_queue/test_roles
AXE = Path(__file__).resolve().parents[1] / "support" / "axe.min.js"
ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / os.environ.get("CONSOLE_SCREENSHOTS", "test-artifacts/console")


def axe_problems(tab: Any) -> list[str]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds in the page, one line each."""
    if not tab.evaluate("() => Boolean(window.axe)"):
        tab.evaluate(
            AXE.read_text(encoding="utf-8")
        )  # through the driver: the page's CSP allows no inline script
    found = tab.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
           .filter(v => v.impact === 'serious' || v.impact === 'critical')
           .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))"""
    )
    return list(found)


def picture(tab: Any, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(IMAGES / f"console-{name}.png"), full_page=True)


@pytest.fixture
def site(hub: App) -> Iterator[tuple[str, Firm, int]]:
    firm = seed_firm(hub)
    dead, _ = add_dead_letter(hub)
    lines = [re.sub(r'"id":"TE-[^"]+"', f'"id":"TE-PULL-{n}"', firm.bad_line) for n in range(3)]
    assert load(hub, lines, source="harvest:time_entries").failed == 3
    with serve_api(create_app(hub)) as base:
        yield base, firm, dead


def test_pages_a_search_and_a_bulk_retry_with_its_money_preview(site: Any, page: Any, hub: App) -> None:  # noqa: F811
    base, _, dead = site
    sign_in(page, base, "otto")
    page.goto(f"{base}/console/exceptions?per_page=2&sort=id")
    assert "5 exception(s), page 1 of 3" in page.inner_text("[data-testid=count]")
    page.click("[data-testid=next]")
    page.wait_for_selector("[data-testid=count]:has-text('page 2 of 3')")
    assert re.search(r"[?&]page=2", page.url)
    assert page.locator("[data-testid=exception-row]").count() == 2

    page.goto(f"{base}/console/exceptions")
    page.fill("[data-testid=search]", "astronaut")  # htmx asks as you type
    page.wait_for_selector("[data-testid=count]:has-text('1 exception(s)')")
    assert "q=astronaut" in page.url
    assert f"#{dead}" in page.inner_text("#queue")
    picture(page, "exceptions")
    assert axe_problems(page) == []

    page.check(f"input[name=ids][value='{dead}']")
    page.select_option("select[name=action]", "retry")
    page.fill("input[name=reason]", "astronaut rate added")
    page.click("[data-testid=bulk-preview]")
    page.wait_for_selector("[data-testid=bulk-money]")
    assert "10,000.00 USD" in page.inner_text("[data-testid=priced]")  # 8 h at 1,250.00
    picture(page, "bulk-preview")
    assert axe_problems(page) == []
    with hub.uow() as uow:
        assert uow.exceptions.get(dead).state == "open"  # previewed, not changed
    page.click("[data-testid=bulk-apply]")
    page.wait_for_selector("[data-testid=flash]")
    assert "1 exception(s) changed, 0 refused" in page.inner_text("[data-testid=flash]")
    with hub.uow() as uow:
        assert uow.exceptions.get(dead).state == "retrying"


def test_charts_draw_the_data_and_say_what_to_run_when_there_is_none(
    site: Any,
    page: Any,  # noqa: F811
    fresh_hub: Any,
) -> None:
    base, _, _ = site
    sign_in(page, base, "vera")
    page.goto(f"{base}/console/")
    page.wait_for_function("() => document.querySelectorAll('canvas[data-drawn]').length >= 3")
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')].map(c => {"
        " const ch = Chart.getChart(c); return ch ? ch.data.datasets[0].data.length : 0 })"
    )
    assert len(drawn) == 3 and all(n > 0 for n in drawn)
    ticks = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas')).scales.y.ticks.map(t => t.value)"
    )
    assert all(float(t) == int(t) for t in ticks)  # round ticks
    picture(page, "overview")
    assert axe_problems(page) == []

    empty = fresh_hub()
    with empty.uow() as uow:
        from handoffs.console.users import add_user

        add_user(uow.connection, "vera", "viewer", "viewer-secret", uow.now)
        uow.commit()
    with serve_api(create_app(empty)) as other:
        page.context.clear_cookies()
        sign_in(page, other, "vera")
        page.goto(f"{other}/console/")
        assert page.locator("canvas[data-chart]").count() == 0
        assert "handoffs demo" in page.inner_text("main")
        picture(page, "overview-empty")
        page.click("nav >> text=Billing readiness")
        page.wait_for_selector("[data-testid=readiness-empty]")  # not an error page
        assert "handoffs demo" in page.inner_text("[data-testid=readiness-empty]")
        assert axe_problems(page) == []


PAGES = {
    "reconciliation": "/console/reconciliation",
    "readiness": "/console/readiness",
    "traces": "/console/traces?correlation_id=project:P-001",
    "entry": "/console/reconciliation?period=2026-01&entity=LE-US&source=time_entry:TE-00000030",
    "kpis": "/console/kpis",
    "connectors": "/console/connectors",
    "catalog": "/console/catalog",
    "users": "/console/users",
    "not-found": "/console/exceptions/999999",
}


def test_every_page_passes_axe_wcag_21_aa(site: Any, page: Any, hub: App) -> None:  # noqa: F811
    base, firm, _ = site
    with hub.uow() as uow:
        invoice, _ = next(iter(uow.invoices.iter_all()))
    pages = PAGES | {"explain": f"/console/explain/{invoice.lines[0].id}"}
    sign_in(page, base, "ada")
    page.goto(f"{base}/console/exceptions/{firm.exception_id}")
    picture(page, "exception")
    problems = {"exception": axe_problems(page)}
    for name, path in pages.items():
        page.goto(f"{base}{path}")
        page.wait_for_load_state("load")
        picture(page, name)
        problems[name] = axe_problems(page)
    page.context.clear_cookies()
    page.goto(f"{base}/console/login")
    problems["login"] = axe_problems(page)
    assert {k: v for k, v in problems.items() if v} == {}
