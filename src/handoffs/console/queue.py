"""The exceptions queue page: filters, search, pages, CSV, and bulk actions with a preview.

The page selects with :func:`handoffs.flows.triage_bulk.select` and acts with
:func:`handoffs.api.bulk.apply`, as ``handoffs exceptions retry|ignore|assign`` with filter
options and ``POST /v1/process/exception-batches`` do. A bulk action is two steps: the first
POST shows what is selected (and, for a retry, the money preview of replaying it) and
changes nothing; the confirming POST acts, audited as ``console:<user>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from handoffs.api import bulk
from handoffs.api.context import Principal
from handoffs.console.auth import ConsoleContext, need
from handoffs.console.render import page
from handoffs.console.users import ConsoleUser
from handoffs.flows import triage_bulk
from handoffs.flows.triage import GROUP_BY, SORTS, _groups
from handoffs.flows.triage_bulk import Filter, Page
from handoffs.sync.remap import remapper

__all__ = ["AGES", "PER_PAGE", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)
Viewer = Annotated[ConsoleUser, Depends(need("viewer"))]
Operator = Annotated[ConsoleUser, Depends(need("operator"))]
STATES = ("open", "in_progress", "retrying", "resolved", "ignored")
AGES = ("1", "7", "30", "90")  # "older than N days" choices
PER_PAGE = 50
FILTER_KEYS = ("state", "category", "system", "project", "entity", "age", "q")


def _ctx(request: Request) -> ConsoleContext:
    ctx: ConsoleContext = request.app.state.console
    return ctx


def _clean(params: Mapping[str, Any]) -> dict[str, str]:
    """The filter fields of a query string or form, trimmed, bounded, unknown values dropped."""
    out = {k: str(params.get(k, "") or "").strip()[:200] for k in FILTER_KEYS}
    out["state"] = out["state"] if out["state"] in STATES else ""
    out["age"] = out["age"] if out["age"].isdigit() and 0 < int(out["age"]) <= 36500 else ""
    return out


def _filter(fields: dict[str, str], ids: tuple[int, ...] = ()) -> Filter:
    return Filter(
        state=fields["state"],
        category=fields["category"],
        system=fields["system"],
        project=fields["project"],
        entity=fields["entity"],
        older_than=int(fields["age"]) if fields["age"] else None,
        q=fields["q"],
        ids=ids,
    )


def _number(value: Any, default: int) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 7 else default


@router.get("/exceptions", response_class=HTMLResponse)
def exceptions(request: Request, user: Viewer) -> Response:
    params = request.query_params
    fields = _clean(params)
    group_by = params.get("group_by", "") if params.get("group_by", "") in GROUP_BY else ""
    sort = params.get("sort", "priority") if params.get("sort", "priority") in SORTS else "priority"
    with _ctx(request).hub.uow() as uow:
        items = triage_bulk.select(uow, _filter(fields), sort=sort)
        categories = sorted(uow.exceptions.count_by_category())
        entities = sorted(e.id for e in uow.objects.all("legal_entity"))
    shown = Page.of(items, _number(params.get("page"), 1), _number(params.get("per_page"), PER_PAGE))
    per_page = "" if shown.size == PER_PAGE else str(shown.size)
    extra = {"group_by": group_by, "sort": sort, "per_page": per_page}
    query = {k: v for k, v in (fields | extra).items() if v}
    partial = request.headers.get("HX-Target") == "queue"
    return page(
        request,
        "_queue.html" if partial else "exceptions.html",
        active="exceptions",
        shown=shown,
        items=shown.items,
        groups=_groups(items, group_by) if group_by else [],
        total=shown.total,
        states=STATES,
        categories=categories,
        entities=entities,
        systems=sorted({triage_bulk.system_of(i.exception) for i in items} | ({fields["system"]} - {""})),
        ages=AGES,
        group_bys=GROUP_BY,
        sorts=SORTS,
        f=fields,
        group_by=group_by,
        sort=sort,
        query=urlencode(query),
        filter_query=urlencode({k: v for k, v in fields.items() if v}),
        done=_done(params),
    )


def _done(params: Mapping[str, str]) -> str:
    """The banner after a bulk action: numbers only, never text from the address bar."""
    if params.get("done") != "bulk":
        return ""
    changed, refused = _number(params.get("changed"), 0), _number(params.get("refused"), 0)
    return f"{changed} exception(s) changed, {refused} refused (already closed, or nothing to retry)."


@router.get("/exceptions.csv")
def exceptions_csv(request: Request, user: Viewer) -> Response:
    """The filtered queue as CSV, every match (not only one page)."""
    with _ctx(request).hub.uow() as uow:
        items = triage_bulk.select(uow, _filter(_clean(request.query_params)))
    return Response(
        triage_bulk.to_csv(items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="exceptions.csv"'},
    )


@router.post("/exceptions/bulk", response_class=HTMLResponse)
async def bulk_action(request: Request, user: Operator) -> Response:
    form = await request.form()
    fields = _clean(form)
    action = str(form.get("action", ""))
    scope = str(form.get("scope", "selected"))
    ids = tuple(int(str(v)) for v in form.getlist("ids") if str(v).isdigit() and len(str(v)) < 19)
    reason, owner = str(form.get("reason", "")).strip()[:2000], str(form.get("owner", "")).strip()[:128]
    hub = _ctx(request).hub
    chosen = _filter(fields, ids if scope == "selected" else ())
    problem = _refusal(action, scope, chosen, reason, owner)
    if problem is None and form.get("confirm") == "yes":
        principal = Principal(user.name, user.name, frozenset({"*"}), None, "console")
        with hub.uow() as uow:
            selected = [i.id for i in triage_bulk.select(uow, chosen)]
            result = bulk.apply(
                uow,
                principal,
                action,
                selected,
                reason=reason,
                owner=owner,
                criteria=chosen.as_dict(),
                remap=remapper(hub, f"console:{user.name}"),
            )
            bulk.record_audit(uow, result, f"console:{user.name}", "console")
            uow.commit()
        counts = {"done": "bulk", "changed": result.body["changed"], "refused": result.body["refused"]}
        back = {k: v for k, v in fields.items() if v} | counts
        return RedirectResponse(f"/console/exceptions?{urlencode(back)}", status_code=303)
    with hub.uow() as uow:
        items = triage_bulk.select(uow, chosen) if problem is None else []
        preview = (
            triage_bulk.preview(uow, items, registry=hub.registry, ports=hub.ports)
            if action == "retry" and items
            else None
        )
    response = page(
        request,
        "bulk.html",
        422 if problem else 200,
        active="exceptions",
        problem=problem,
        action=action,
        scope=scope,
        items=items,
        preview=preview,
        f=fields,
        ids=[i.id for i in items],
        reason=reason,
        owner=owner,
        back=urlencode({k: v for k, v in fields.items() if v}),
    )
    response.headers["HX-Push-Url"] = "false"
    return response


def _refusal(action: str, scope: str, chosen: Filter, reason: str, owner: str) -> str | None:
    if action not in bulk.ACTIONS:
        return "Choose an action: retry, ignore or assign."
    if scope == "selected" and not chosen.ids:
        return "Tick the exceptions to act on, or choose all that match the filter."
    if chosen.empty:
        return "A bulk action needs a filter or a selection; it never means every exception."
    if action == "assign" and not owner:
        return "Name an owner."
    if action != "assign" and not reason:
        return "Give a reason: it is kept with each exception and in the audit log."
    return None
