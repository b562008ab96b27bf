"""The console's pages: every route reads only, and needs at least the viewer role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from handoffs.api.catalog import INTERFACES
from handoffs.console import kpis, reads, recon
from handoffs.console.auth import ConsoleContext, need
from handoffs.console.charts import bar_chart, line_chart
from handoffs.console.notices import exception_notice, users_notice
from handoffs.console.render import page
from handoffs.console.users import ConsoleUser, list_users
from handoffs.flows import triage
from handoffs.flows.readiness import parse_period, period_readiness
from handoffs.store.repositories.exceptions import RUNBOOKS
from handoffs.store.repositories.readiness import ReadinessReads

__all__ = ["router"]

router = APIRouter(prefix="/console", include_in_schema=False)
Viewer = Annotated[ConsoleUser, Depends(need("viewer"))]
Admin = Annotated[ConsoleUser, Depends(need("admin"))]
ExceptionId = Annotated[int, Path(ge=1, le=2**62)]  # larger ids reach no database column


def _ctx(request: Request) -> ConsoleContext:
    ctx: ConsoleContext = request.app.state.console
    return ctx


RANGES = (7, 31, 90)  # the overview's time ranges: the latest N days that have data


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: Viewer, days: int = 31) -> Response:
    ctx = _ctx(request)
    days = days if days in RANGES else 31
    with ctx.hub.uow() as uow:
        data = reads.overview(uow, ctx.now(), days)
    recorded, worked = data["recorded_per_day"], data["time_by_work_date"]
    categories = data["open_by_category"]
    charts = {
        "recorded": bar_chart(
            [d for d, _ in recorded],
            {"messages": [n for _, n in recorded]},
            "Messages handled per day",
            "messages",
        ),
        "worked": line_chart(
            [d for d, _, _ in worked],
            {"entries": [n for _, n, _ in worked], "approved": [a for _, _, a in worked]},
            "Time entries per work date",
            "entries",
        ),
        "categories": bar_chart(
            list(categories),
            {"open": list(categories.values())},
            "Open exceptions by category",
            "exceptions",
            empty="No open exceptions: nothing needs a person.",
        ),
    }
    return page(
        request, "overview.html", active="overview", data=data, charts=charts, days=days, ranges=RANGES
    )


@router.get("/exceptions/{exception_id}", response_class=HTMLResponse)
def exception(request: Request, user: Viewer, exception_id: ExceptionId, done: str = "") -> Response:
    with _ctx(request).hub.uow() as uow:
        record = uow.exceptions.get(exception_id)
    if record is None:
        return page(request, "error.html", 404, title="Not found", message=f"No exception {exception_id}.")
    return exception_page(request, record, exception_notice(done, record), True)


def exception_page(
    request: Request,
    record: Any,
    msg: str,
    ok: bool,
    raw: str | None = None,
    status: int = 200,
    preview: Any = None,
) -> Response:
    with _ctx(request).hub.uow() as uow:
        item = triage.assess(uow, record.id)
    return page(
        request,
        "exception.html",
        status,
        active="exceptions",
        x=record,
        item=item,
        preview=preview,
        runbook=RUNBOOKS.get(record.category, "docs/runbooks.md"),
        docs_url=(_ctx(request).docs_url or "").rstrip("/"),
        msg=msg,
        ok=ok,
        raw=record.raw if raw is None else raw,
        fixable=record.category == "validation" and record.work_id is None,
        replayable=record.message_id is not None or record.work_id is not None,
        closed=record.state in ("resolved", "ignored"),
    )


@router.get("/exceptions/{exception_id}/replay", response_class=HTMLResponse)
def replay_preview(request: Request, user: Viewer, exception_id: ExceptionId) -> Response:
    """What a replay would do, computed in a transaction that is rolled back."""
    ctx = _ctx(request)
    with ctx.hub.uow() as uow:
        record = uow.exceptions.get(exception_id)
        if record is None:
            return page(
                request, "error.html", 404, title="Not found", message=f"No exception {exception_id}."
            )
        try:
            preview = triage.replay_preview(uow, exception_id, registry=ctx.hub.registry, ports=ctx.hub.ports)
        except (LookupError, ValueError) as exc:
            return exception_page(request, record, str(exc), False, status=422)
    if preview.runs == 0:
        message = f"exception {exception_id} has no stored message to replay; fix the source, load it again"
        return exception_page(request, record, message, False, status=422)
    return exception_page(request, record, "", True, preview=preview)


@router.get("/reconciliation", response_class=HTMLResponse)
def reconciliation(
    request: Request, user: Viewer, period: str = "", entity: str = "", project: str = "", source: str = ""
) -> Response:
    with _ctx(request).hub.uow() as uow:
        conn = uow.connection
        periods = recon.periods(conn)
        period = period if period in periods else (periods[0] if periods else "")
        data: dict[str, Any] = {"periods": periods, "period": period, "entity": entity, "project": project}
        if not period:
            level = "empty"
        elif source and entity:
            level, data["entry"] = "entry", recon.entry(conn, period, entity, source)
            data["source"] = source
        elif project and entity:
            level, data["breaks"] = "project", recon.project_breaks(conn, period, entity, project)
        elif entity:
            level, data["summary"] = "entity", recon.by_project(conn, period, entity)
        else:
            level, data["summary"] = "firm", recon.by_entity(conn, period)
    return page(request, "reconciliation.html", active="reconciliation", level=level, **data)


@router.get("/readiness", response_class=HTMLResponse)
def readiness(request: Request, user: Viewer, period: str = "") -> Response:
    ctx = _ctx(request)
    with ctx.hub.uow() as uow:
        periods = recon.periods(uow.connection)
        period = period or (periods[0] if periods else "")
        if not period:  # an empty database: nothing to bill yet, which is not an error
            return page(
                request, "readiness.html", active="readiness", results=[], counts={}, period="", periods=[]
            )
        try:
            parse_period(period)
        except ValueError as exc:
            return page(request, "error.html", 400, title="Bad period", message=str(exc))
        results = period_readiness(uow, ReadinessReads(uow.connection), ctx.hub.ports, period)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return page(
        request,
        "readiness.html",
        active="readiness",
        results=results,
        counts=counts,
        period=period,
        periods=periods,
    )


@router.get("/traces", response_class=HTMLResponse)
def traces(request: Request, user: Viewer, correlation_id: str = "") -> Response:
    with _ctx(request).hub.uow() as uow:
        recent = reads.recent_correlations(uow.connection)
        found = reads.trace(uow, correlation_id) if correlation_id else None
    return page(
        request, "traces.html", active="traces", recent=recent, trace=found, correlation_id=correlation_id
    )


@router.get("/kpis", response_class=HTMLResponse)
def kpi_page(request: Request, user: Viewer, entity: str = "", months: int = 0) -> Response:
    months = months if months in kpis.RANGES else 0
    with _ctx(request).hub.uow() as uow:
        charts = kpis.kpi_charts(uow.connection, entity or None, months or None)
        entities = [p.id for p in uow.objects.all("legal_entity")]
    return page(
        request,
        "kpis.html",
        active="kpis",
        charts=charts,
        entity=entity,
        entities=sorted(entities),
        months=months,
        ranges=kpis.RANGES,
    )


@router.get("/connectors", response_class=HTMLResponse)
def connectors(request: Request, user: Viewer, done: str = "") -> Response:
    ctx = _ctx(request)
    configured = ctx.hub.systems.systems if ctx.hub.systems is not None else {}
    kinds = {n: (configured[n].connector if n in configured else "") for n in ctx.hub.sources}
    with ctx.hub.uow() as uow:
        data = reads.connectors(uow, ctx.hub, ctx.now(), ctx.limits)
        data["pulled"] = reads.sync_status(uow.connection, kinds)
        runs = reads.sync_history(uow.connection)
    started = "Pull started in the background; reload to see it finish." if done == "sync" else ""
    return page(request, "connectors.html", active="connectors", runs=runs, request_done=started, **data)


@router.get("/explain/{line_id}", response_class=HTMLResponse)
def explain(request: Request, user: Viewer, line_id: Annotated[str, Path(max_length=200)]) -> Response:
    """``handoffs explain invoice-line`` as a page: what a line bills, its rate, tax, journal."""
    from handoffs.flows.lineage import invoice_line_lineage

    with _ctx(request).hub.uow() as uow:
        data = invoice_line_lineage(uow, line_id)
        invoice = uow.invoices.get(data["invoice"]["id"]) if data else None
    if data is None or invoice is None:
        return page(request, "error.html", 404, title="Not found", message=f"No invoice line {line_id}.")
    return page(request, "explain.html", active="reconciliation", d=data, entity=invoice.legal_entity_id)


@router.get("/catalog", response_class=HTMLResponse)
def catalog(request: Request, user: Viewer) -> Response:
    return page(request, "catalog.html", active="catalog", interfaces=INTERFACES)


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, user: Admin, done: str = "") -> Response:
    return users_page(request, users_notice(done), True)


def users_page(request: Request, msg: str, ok: bool, status: int = 200) -> Response:
    """The users page with a banner: a fixed notice after a change, or why a change was refused."""
    with _ctx(request).hub.uow() as uow:
        everyone = list_users(uow.connection)
    return page(request, "users.html", status, active="users", users=everyone, msg=msg, ok=ok)
