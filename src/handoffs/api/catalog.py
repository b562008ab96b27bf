"""The API catalog: every interface with its owner, version and lifecycle, and deprecation headers.

A deprecated interface answers with ``Deprecation: @<epoch seconds>`` (RFC 9745), ``Sunset:
<HTTP-date>`` (RFC 8594, never earlier than the deprecation) and ``Link`` rels pointing at
its successor and at this catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from fastapi import Request

from handoffs.api.schemas import CatalogEntry

__all__ = ["INTERFACES", "deprecated"]

_SYS, _PROC, _EXP, _GOV = "team-integrations", "team-process", "team-experience", "team-platform"

INTERFACES: list[CatalogEntry] = [
    CatalogEntry(
        name="canonical-objects",
        layer="system",
        path="/v1/system/objects",
        owner=_SYS,
        version="1.0",
        lifecycle="stable",
        description="Upsert and read canonical objects of every catalog type.",
    ),
    CatalogEntry(
        name="webhook-receivers",
        layer="system",
        path="/v1/system/webhooks/{system}",
        owner=_SYS,
        version="1.0",
        lifecycle="stable",
        description="Signed webhooks from connected systems, with a replay window.",
    ),
    CatalogEntry(
        name="time-approvals",
        layer="process",
        path="/v1/process/time-approvals",
        owner=_PROC,
        version="1.0",
        lifecycle="stable",
        description="Approve a batch of time entries.",
    ),
    CatalogEntry(
        name="invoice-runs",
        layer="process",
        path="/v1/process/invoice-runs",
        owner=_PROC,
        version="1.0",
        lifecycle="stable",
        description="Generate invoices for a project and period.",
    ),
    CatalogEntry(
        name="exceptions",
        layer="process",
        path="/v1/process/exceptions/{id}",
        owner=_PROC,
        version="1.0",
        lifecycle="stable",
        description="Retry or ignore an exception, with a reason.",
    ),
    CatalogEntry(
        name="exception-batches",
        layer="process",
        path="/v1/process/exception-batches",
        owner=_PROC,
        version="1.0",
        lifecycle="stable",
        description="Retry, ignore or assign the exceptions a filter selects, with a dry run.",
    ),
    CatalogEntry(
        name="replays",
        layer="process",
        path="/v1/process/replays",
        owner=_PROC,
        version="1.0",
        lifecycle="stable",
        description="Replay stored messages by correlation id or time range.",
    ),
    CatalogEntry(
        name="resource-requests",
        layer="process",
        path="/v1/process/resource-requests",
        owner=_PROC,
        version="1.0",
        lifecycle="stable",
        description="Raise a resource request or name a resource for one; the staffing check decides.",
    ),
    CatalogEntry(
        name="timesheet-status",
        layer="experience",
        path="/v1/experience/consultants/{id}/timesheet",
        owner=_EXP,
        version="1.0",
        lifecycle="stable",
        description="A consultant's timesheet status.",
    ),
    CatalogEntry(
        name="client-invoices",
        layer="experience",
        path="/v1/experience/clients/{id}/invoices",
        owner=_EXP,
        version="1.0",
        lifecycle="stable",
        description="A client's invoices and status.",
    ),
    CatalogEntry(
        name="kpis",
        layer="experience",
        path="/v1/experience/kpis",
        owner=_EXP,
        version="1.0",
        lifecycle="stable",
        description="Executive KPIs from the store.",
    ),
    CatalogEntry(
        name="executive-kpis",
        layer="experience",
        path="/v1/experience/executive-kpis",
        owner=_EXP,
        version="0.9",
        lifecycle="deprecated",
        description="The first KPI view; use kpis.",
        deprecation="2026-11-01T00:00:00Z",
        sunset="2027-06-30T00:00:00Z",
        successor="/v1/experience/kpis",
    ),
    CatalogEntry(
        name="invoice-line-lineage",
        layer="experience",
        path="/v1/experience/invoices/{id}/lines/{line_id}/lineage",
        owner=_EXP,
        version="1.0",
        lifecycle="stable",
        description="What an invoice line bills, approved by whom, posted where.",
    ),
    CatalogEntry(
        name="event-subscriptions",
        layer="events",
        path="/v1/subscriptions",
        owner=_GOV,
        version="1.0",
        lifecycle="stable",
        description="CloudEvents out to signed webhooks and NATS JetStream; redelivery.",
    ),
    CatalogEntry(
        name="oauth-token",
        layer="governance",
        path="/v1/oauth/token",
        owner=_GOV,
        version="1.0",
        lifecycle="stable",
        description="OAuth2 client credentials: JWT access tokens.",
    ),
    CatalogEntry(
        name="catalog",
        layer="governance",
        path="/v1/catalog",
        owner=_GOV,
        version="1.0",
        lifecycle="stable",
        description="This list.",
    ),
    CatalogEntry(
        name="metrics",
        layer="governance",
        path="/metrics",
        owner=_GOV,
        version="1.0",
        lifecycle="stable",
        description="Prometheus metrics of the hub and its store (scope metrics:read, firm-wide).",
    ),
]
_BY_NAME = {i.name: i for i in INTERFACES}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def deprecated(name: str) -> Callable[[Request], None]:
    """A route dependency that adds the interface's Deprecation, Sunset and Link headers."""
    entry = _BY_NAME[name]
    assert entry.deprecation and entry.sunset and _instant(entry.sunset) >= _instant(entry.deprecation)
    headers: dict[str, Any] = {
        "Deprecation": f"@{int(_instant(entry.deprecation).timestamp())}",
        "Sunset": format_datetime(_instant(entry.sunset), usegmt=True),
        "Link": ", ".join(
            [f'<{entry.successor}>; rel="successor-version"'] * bool(entry.successor)
            + [
                '</v1/catalog>; rel="deprecation"; type="application/json"',
                '</v1/catalog>; rel="sunset"; type="application/json"',
            ]
        ),
    }

    def add_headers(request: Request) -> None:
        request.state.extra_headers = {**getattr(request.state, "extra_headers", {}), **headers}

    return add_headers
