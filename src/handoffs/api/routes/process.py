"""Process layer: commands handed to the hub's flows through the outbox and the work queue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from handoffs.api import bulk, commands, staffing
from handoffs.api.deps import Ctx, ProcessWrite
from handoffs.api.idempotency import IdempotencyKey, Result, run_once
from handoffs.api.problems import Unprocessable
from handoffs.api.routes import AUTHED, POSTED, problems
from handoffs.api.schemas import (
    ID_PATTERN,
    ApprovalIn,
    ApprovalOut,
    AssignmentIn,
    CommandAccepted,
    ExceptionActionIn,
    ExceptionBatchIn,
    ExceptionBatchOut,
    ExceptionOut,
    InvoiceRunIn,
    ReplayIn,
    ReplayOut,
    ReplayPreviewOut,
    ResourceRequestIn,
    ResourceRequestOut,
)
from handoffs.flows import triage_bulk
from handoffs.sync.remap import remapper

__all__ = ["router"]

router = APIRouter(prefix="/v1/process", tags=["process"])
ExceptionId = Annotated[int, Path(ge=1, le=2**62)]
RequestId = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


@router.post(
    "/resource-requests", status_code=202, response_model=ResourceRequestOut, responses=problems(*POSTED)
)
def submit_resource_request(
    body: ResourceRequestIn, request: Request, ctx: Ctx, principal: ProcessWrite, key: IdempotencyKey
) -> JSONResponse:
    """Raise a resource request; one naming ``proposed_resource_id`` goes to the staffing check.

    The worker then assigns the resource (event ``ConsultantAssigned``) or refuses it (event
    ``StaffingRefused`` and a ``staffing`` exception naming the rule).
    """
    payload = body.model_dump(mode="json", exclude_none=True)
    return run_once(
        ctx,
        request,
        principal,
        key,
        payload,
        lambda uow: staffing.submit_request(uow, ctx.app.ports, principal, payload),
    )


@router.post(
    "/resource-requests/{request_id}/assignments",
    status_code=202,
    response_model=CommandAccepted,
    responses=problems(*POSTED),
)
def assign_resource(
    request_id: RequestId,
    body: AssignmentIn,
    request: Request,
    ctx: Ctx,
    principal: ProcessWrite,
    key: IdempotencyKey,
) -> JSONResponse:
    """Name a resource for an open request: publishes ``AssignConsultant`` for the staffing check."""
    return run_once(
        ctx,
        request,
        principal,
        key,
        body.model_dump(mode="json"),
        lambda uow: staffing.name_resource(
            uow, ctx.app.ports, principal, request_id, body.resource_id, key, body.assigned_at
        ),
    )


@router.post("/time-approvals", response_model=ApprovalOut, responses=problems(*POSTED))
def approve_time(
    body: ApprovalIn, request: Request, ctx: Ctx, principal: ProcessWrite, key: IdempotencyKey
) -> JSONResponse:
    """Approve time entries (all or none): each newly approved entry is priced and invoiced by the flow."""
    return run_once(
        ctx,
        request,
        principal,
        key,
        body.model_dump(mode="json"),
        lambda uow: commands.approve_time(uow, ctx.app.ports, principal, body.entry_ids, body.approved_by),
    )


@router.post("/invoice-runs", status_code=202, response_model=CommandAccepted, responses=problems(*POSTED))
def run_invoices(
    body: InvoiceRunIn, request: Request, ctx: Ctx, principal: ProcessWrite, key: IdempotencyKey
) -> JSONResponse:
    """Publish ``GenerateInvoice`` for a project and period; the worker invoices its priced time."""
    return run_once(
        ctx,
        request,
        principal,
        key,
        body.model_dump(mode="json"),
        lambda uow: commands.run_invoices(uow, ctx.app.ports, principal, body.project_id, body.period, key),
    )


@router.post("/exceptions/{exception_id}/retry", response_model=ExceptionOut, responses=problems(*POSTED))
def retry_exception(
    exception_id: ExceptionId,
    body: ExceptionActionIn,
    request: Request,
    ctx: Ctx,
    principal: ProcessWrite,
    key: IdempotencyKey,
) -> JSONResponse:
    """Put an exception's dead work item back in the queue, and mark it ``retrying`` with a reason."""
    return run_once(
        ctx,
        request,
        principal,
        key,
        body.model_dump(mode="json"),
        lambda uow: commands.retry_exception(
            uow, principal, exception_id, body.reason, remapper(ctx.app, f"api:{principal.client_id}")
        ),
    )


@router.get(
    "/exceptions/{exception_id}/replay-preview",
    response_model=ReplayPreviewOut,
    responses=problems(*AUTHED, 409),
)
def preview_exception_replay(
    exception_id: ExceptionId, ctx: Ctx, principal: ProcessWrite
) -> ReplayPreviewOut:
    """What replaying the exception's work would invoice, price and post: nothing is kept or sent."""
    with ctx.app.uow() as uow:
        preview = commands.replay_preview(uow, ctx.app.ports, ctx.app.registry, principal, exception_id)
    return ReplayPreviewOut.model_validate(preview.as_dict())


@router.post("/exceptions/{exception_id}/replay", response_model=ExceptionOut, responses=problems(*POSTED))
def replay_exception(
    exception_id: ExceptionId,
    body: ExceptionActionIn,
    request: Request,
    ctx: Ctx,
    principal: ProcessWrite,
    key: IdempotencyKey,
) -> JSONResponse:
    """Run the exception's work again (after its replay-preview); it is resolved as replayed."""
    subscriptions = ctx.app.registry.subscriptions
    return run_once(
        ctx,
        request,
        principal,
        key,
        body.model_dump(mode="json"),
        lambda uow: commands.replay_exception(uow, subscriptions, principal, exception_id, body.reason),
    )


@router.post("/exceptions/{exception_id}/ignore", response_model=ExceptionOut, responses=problems(*POSTED))
def ignore_exception(
    exception_id: ExceptionId,
    body: ExceptionActionIn,
    request: Request,
    ctx: Ctx,
    principal: ProcessWrite,
    key: IdempotencyKey,
) -> JSONResponse:
    """Close an exception as ``ignored``, with the reason kept and audited."""
    return run_once(
        ctx,
        request,
        principal,
        key,
        body.model_dump(mode="json"),
        lambda uow: commands.ignore_exception(uow, principal, exception_id, body.reason),
    )


@router.post("/replays", response_model=ReplayOut, responses=problems(*POSTED))
def replay(
    body: ReplayIn, request: Request, ctx: Ctx, principal: ProcessWrite, key: IdempotencyKey
) -> JSONResponse:
    """Run stored messages through their consumers again, by correlation id and/or time range."""
    return run_once(
        ctx,
        request,
        principal,
        key,
        body.model_dump(mode="json"),
        lambda uow: commands.replay(
            uow, ctx.app.uow.subscriptions, principal, body.correlation_id, body.since, body.until
        ),
    )


@router.post("/exception-batches", response_model=ExceptionBatchOut, responses=problems(*POSTED))
def exception_batch(
    body: ExceptionBatchIn, request: Request, ctx: Ctx, principal: ProcessWrite, key: IdempotencyKey
) -> JSONResponse:
    """Retry, ignore or assign every exception the filter selects (that this client may see).

    Each exception goes through the single action's command and is audited; those it refuses
    are listed with why. With ``dry_run`` nothing changes: the selection is listed, and for a
    retry the money preview of replaying it is added up.
    """
    f = body.filter
    selection = triage_bulk.Filter(
        state=f.state,
        category=f.category,
        system=f.system,
        project=f.project,
        entity=f.entity,
        older_than=f.older_than_days,
        q=f.q,
        ids=tuple(f.ids),
    )
    if selection.empty:
        raise Unprocessable("give at least one filter criterion (or ids): a batch never means everything")

    def run(uow: Any) -> Result:
        items = triage_bulk.select(uow, selection, visible=bulk.visible_to(uow, principal))
        ids = [i.id for i in items]
        try:
            result = bulk.apply(
                uow,
                principal,
                body.action,
                ids,
                reason=body.reason,
                owner=body.owner,
                criteria=selection.as_dict(),
                remap=remapper(ctx.app, f"api:{principal.client_id}"),
            )
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
        result.body["selected_ids"] = ids
        return result

    if body.dry_run:
        with ctx.app.uow() as uow:
            items = triage_bulk.select(uow, selection, visible=bulk.visible_to(uow, principal))
            out: dict[str, Any] = {
                "action": body.action,
                "selected": len(items),
                "selected_ids": [i.id for i in items],
            }
            if body.action == "retry":
                out["preview"] = triage_bulk.preview(
                    uow, items, registry=ctx.app.registry, ports=ctx.app.ports
                ).as_dict()
        return JSONResponse(ExceptionBatchOut.model_validate(out).model_dump(mode="json"))
    return run_once(ctx, request, principal, key, body.model_dump(mode="json"), run)
