"""System layer: canonical upserts and reads, and webhook receivers of connected systems."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse

from handoffs.api.commands import upsert
from handoffs.api.deps import Ctx, SystemRead, SystemWrite
from handoffs.api.entities import entity_of, require_visible
from handoffs.api.idempotency import Audit, IdempotencyKey, Result, run_once
from handoffs.api.problems import Forbidden, NotFound, TooManyRequests
from handoffs.api.quotas import ExceptionBudgetSpent
from handoffs.api.routes import AUTHED, POSTED, problems
from handoffs.api.schemas import LoadReportOut, ObjectOut, ObjectType, ReceiverSecretOut, UpsertIn, WebhookOut
from handoffs.api.webhooks_in import receive
from handoffs.domain.catalog import OBJECT_TYPES
from handoffs.engine.relay_webhook import new_secret
from handoffs.store.repositories.read_models import ReadModels
from handoffs.store.repositories.subscriptions import SubscriptionRepository
from handoffs.store.serde import from_doc
from handoffs.store.uow import SqlUnitOfWork

__all__ = ["router"]

router = APIRouter(prefix="/v1/system", tags=["system"])
SystemName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")]
ObjectId = Annotated[str, Path(min_length=1, max_length=128)]


@router.post("/objects", response_model=LoadReportOut, responses=problems(*POSTED))
def upsert_objects(
    body: UpsertIn, request: Request, ctx: Ctx, principal: SystemWrite, key: IdempotencyKey
) -> JSONResponse:
    """Upsert canonical records of any type, exactly as ``handoffs load`` stores a file.

    Records are stored as sent by ``api:<client id>`` and versioned by the hub, so a body
    naming ``source_system`` or ``source_version`` is refused (422); each bad record becomes a
    validation exception keeping its raw text, up to the client's exception budget (429 with
    Retry-After past it). Records of another legal entity, and invoices naming anything
    outside their project and entity, are 404.
    """
    records = [r.model_dump(mode="json", exclude_none=True) for r in body.records]
    try:
        return run_once(
            ctx,
            request,
            principal,
            key,
            records,
            lambda uow: upsert(uow, ctx.app.ports, principal, records, ctx.settings),
        )
    except ExceptionBudgetSpent as spent:  # rolled back, and not kept under the idempotency key
        raise TooManyRequests(str(spent), headers={"Retry-After": str(spent.retry_after)}) from None


@router.get("/objects/{type}/{id}", response_model=ObjectOut, responses=problems(*AUTHED))
def read_object(type: ObjectType, id: ObjectId, ctx: Ctx, principal: SystemRead) -> ObjectOut:
    """One canonical object with its hub version and its source system's version."""
    with ctx.app.uow() as uow:
        stored = ReadModels(uow.connection).stored(type, id)
        if stored is None:
            raise NotFound(f"{type} {id} was not found")
        require_visible(
            principal, entity_of(uow, type, from_doc(OBJECT_TYPES[type], stored.doc)), f"{type} {id}"
        )
    return ObjectOut(
        type=type,
        id=id,
        version=stored.version,
        source_system=stored.source_system,
        source_version=stored.source_version,
        data=orjson.loads(stored.doc),
        **stored.extra,
    )


@router.post("/webhooks/{system}/secret", response_model=ReceiverSecretOut, responses=problems(*POSTED))
def rotate_receiver_secret(
    system: SystemName, request: Request, ctx: Ctx, principal: SystemWrite, key: IdempotencyKey
) -> JSONResponse:
    """Create or rotate the shared secret a connected system signs its webhooks with (shown once).

    A repeat with the same ``Idempotency-Key`` answers with ``secret`` null.
    """
    if principal.entities is not None:
        raise Forbidden("only a client scoped to every legal entity may set a system's webhook secret")

    def command(uow: SqlUnitOfWork) -> Result:
        secret = new_secret()
        SubscriptionRepository(uow.connection, uow.now).set_receiver_secret(system, secret)
        return Result(
            200,
            {"system": system, "secret": secret},
            [Audit("system.rotate_webhook_secret", f"receiver:{system}", None, {"rotated": True})],
            replay={"system": system, "secret": None},  # shown once: a repeat does not show it again
        )

    return run_once(ctx, request, principal, key, {"system": system}, command)


@router.post(
    "/webhooks/{system}", response_model=WebhookOut, responses=problems(400, 401, 404, 409, 413, 422, 500)
)
async def receive_webhook(
    system: SystemName,
    request: Request,
    ctx: Ctx,
    webhook_id: Annotated[str, Header(alias="Webhook-Id", min_length=1, max_length=96)],
    webhook_timestamp: Annotated[str, Header(alias="Webhook-Timestamp", min_length=1, max_length=20)],
    webhook_signature: Annotated[str, Header(alias="Webhook-Signature", min_length=1, max_length=1000)],
) -> WebhookOut:
    """Canonical records pushed by a connected system.

    Signed like Standard Webhooks: ``Webhook-Signature: v1,<base64 HMAC-SHA256 of
    "<id>.<timestamp>.<body>">``. Refused (401) when the signature is wrong or the timestamp
    is outside the replay window; a delivery id seen before is acknowledged and not applied.
    The three ``Webhook-*`` headers are required (422 naming the missing one otherwise). The
    HMAC key is the base64-decoded part of the secret after ``whsec_``, so a sender signs with
    ``standardwebhooks.Webhook(secret).sign(...)`` unchanged.
    """
    body = await request.body()
    import anyio.to_thread

    call = partial(receive, ctx, system, webhook_id, webhook_timestamp, webhook_signature, body)
    result = await anyio.to_thread.run_sync(call)
    if result is None:
        raise NotFound(f"no webhook receiver is set up for {system}")
    return result
