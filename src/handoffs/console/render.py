"""Jinja2 templates of the console (in the package: ``console/templates``), rendered to responses."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from handoffs.reconcile.controls import EXPLAINED

__all__ = ["money", "page"]

NAV = (
    ("overview", "/console/", "Overview"),
    ("exceptions", "/console/exceptions", "Exceptions"),
    ("reconciliation", "/console/reconciliation", "Reconciliation"),
    ("readiness", "/console/readiness", "Billing readiness"),
    ("traces", "/console/traces", "Traces"),
    ("kpis", "/console/kpis", "KPIs"),
    ("connectors", "/console/connectors", "Connectors"),
    ("catalog", "/console/catalog", "API catalog"),
)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _epoch(value: float | None) -> str:
    return "" if value is None else _when(datetime.fromtimestamp(value, UTC))


def _pct(value: Decimal | float | None) -> str:
    """A rate as ``handoffs analytics show`` prints it: ``97.3 %``."""
    return "-" if value is None else f"{Decimal(str(value)) * 100:.1f} %"


def money(amount: Decimal | str | None, currency: str = "") -> str:
    """An exact amount with thousands separators and its currency: ``12,345.50 USD``."""
    if amount is None:
        return "-"
    value = Decimal(str(amount))
    return f"{value:,} {currency}".strip()


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def _pretty(raw: str) -> str:
    """A JSON payload indented for reading and editing; anything else as it is."""
    try:
        return orjson.dumps(orjson.loads(raw), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        return raw


@functools.cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("handoffs.console", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, pct=_pct, seconds=_seconds, pretty=_pretty, money=money, epoch=_epoch)
    env.globals["nav"] = NAV
    env.globals["explained_codes"] = EXPLAINED
    return env


def page(request: Request, template: str, status: int = 200, **data: Any) -> HTMLResponse:
    """Render ``template`` with the signed-in user, their CSRF token and ``data``."""
    user = getattr(request.state, "console_user", None)
    html = (
        _env()
        .get_template(template)
        .render(user=user, csrf=getattr(request.state, "csrf", ""), path=request.url.path, **data)
    )
    response = HTMLResponse(html, status_code=status)
    if request.headers.get("HX-Request") and request.method == "GET":
        # after a boosted form's redirect, the address bar shows the page really shown
        response.headers["HX-Push-Url"] = str(request.url.path) + (
            f"?{request.url.query}" if request.url.query else ""
        )
    return response
