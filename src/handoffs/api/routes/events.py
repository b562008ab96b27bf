"""Event subscriptions: webhooks and NATS subjects, their deliveries, and redelivery."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from handoffs.api.context import Principal
from handoffs.api.deps import Ctx, EventsManage
from handoffs.api.idempotency import Audit, IdempotencyKey, Result, run_once
from handoffs.api.problems import Conflict, NotFound, Unprocessable
from handoffs.api.routes import AUTHED, POSTED, problems
from handoffs.api.schemas import DeliveryOut, RedeliveryIn, SubscriptionIn, SubscriptionOut
from handoffs.engine.egress import TargetRefused
from handoffs.engine.relay import EVENT_CLASSES, consumer_name, event_entity
from handoffs.engine.relay_webhook import new_secret
from handoffs.store.repositories.read_models import ReadModels
from handoffs.store.repositories.subscriptions import Subscription, SubscriptionRepository
from handoffs.store.uow import SqlUnitOfWork

__all__ = ["router"]

router = APIRouter(prefix="/v1/subscriptions", tags=["events"])
SubId = Annotated[str, Path(min_length=1, max_length=40)]
Seq = tuple[int, str, str]  # a stored message: (seq, message id, type)


def _out(sub: Subscription, secret: str | None = None) -> dict[str, Any]:
    return SubscriptionOut(
        id=sub.id,
        kind=sub.kind,
        target=sub.target,
        active=sub.active,
        created_at=sub.created_at,
        event_types=None if sub.event_types is None else sorted(sub.event_types),
        secret=secret,
    ).model_dump(mode="json")


def _own(uow: SqlUnitOfWork, client_id: str, sub_id: str) -> Subscription:
    sub = SubscriptionRepository(uow.connection, uow.now).get(sub_id)
    if sub is None or sub.client_id != client_id or not sub.active:  # deleted is gone
        raise NotFound(f"subscription {sub_id} was not found")
    return sub


def _screen(ctx: Ctx, target: str) -> None:
    try:
        ctx.app.egress().screen(target)
    except TargetRefused as exc:
        raise Unprocessable(f"the webhook target is refused: {exc}") from None


@router.post("", status_code=201, response_model=SubscriptionOut, responses=problems(*POSTED))
def create_subscription(
    body: SubscriptionIn, request: Request, ctx: Ctx, principal: EventsManage, key: IdempotencyKey
) -> JSONResponse:
    """Subscribe a webhook URL or a NATS subject to event types (the webhook secret is shown once).

    A repeat with the same ``Idempotency-Key`` answers the same subscription with ``secret``
    null: the secret is not kept for replays.

    A webhook URL whose host is or resolves to a loopback, link-local, private or other
    non-public address is refused (422) unless the operator allowed its network.
    """
    if body.kind == "webhook":
        _screen(ctx, body.target)

    def command(uow: SqlUnitOfWork) -> Result:
        repo = SubscriptionRepository(uow.connection, uow.now)
        sub_id = ctx.app.ports.ids.derive("subscription", principal.client_id, key)
        secret = new_secret() if body.kind == "webhook" else None
        repo.add(
            sub_id, principal.client_id, body.kind, body.target, body.event_types, principal.entities, secret
        )
        sub = repo.get(sub_id)
        assert sub is not None
        after = _out(sub)  # without the secret: the audit row and a replay never show it
        audit = [Audit("events.subscribe", f"subscription:{sub_id}", None, after)]
        return Result(201, _out(sub, secret), audit, replay=after)

    return run_once(ctx, request, principal, key, body.model_dump(mode="json"), command)


@router.get("", response_model=list[SubscriptionOut], responses=problems(*AUTHED))
def list_subscriptions(ctx: Ctx, principal: EventsManage) -> list[dict[str, Any]]:
    """This client's subscriptions."""
    with ctx.app.uow() as uow:
        subs = SubscriptionRepository(uow.connection, uow.now).find(
            client_id=principal.client_id, active_only=True
        )
    return [_out(s) for s in subs]


@router.get("/{subscription_id}", response_model=SubscriptionOut, responses=problems(*AUTHED))
def get_subscription(subscription_id: SubId, ctx: Ctx, principal: EventsManage) -> dict[str, Any]:
    with ctx.app.uow() as uow:
        return _out(_own(uow, principal.client_id, subscription_id))


@router.delete("/{subscription_id}", response_model=SubscriptionOut, responses=problems(*AUTHED))
def delete_subscription(subscription_id: SubId, ctx: Ctx, principal: EventsManage) -> dict[str, Any]:
    """Stop deliveries. The API then treats it as gone (404); its history stays in the store."""
    from handoffs.audit import append

    with ctx.app.uow() as uow:
        sub = _own(uow, principal.client_id, subscription_id)
        SubscriptionRepository(uow.connection, uow.now).deactivate(sub.id)
        append(
            uow.connection,
            at=uow.now,
            actor=principal.actor,
            action="events.unsubscribe",
            target=f"subscription:{sub.id}",
            before={"active": True},
            after={"active": False},
        )
        uow.commit()
    return _out(replace(sub, active=False))


@router.get("/{subscription_id}/deliveries", response_model=list[DeliveryOut], responses=problems(*AUTHED))
def list_deliveries(
    subscription_id: SubId,
    ctx: Ctx,
    principal: EventsManage,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|dead)$")] = None,
) -> list[dict[str, Any]]:
    """The newest deliveries of this subscription (``status=dead`` lists its dead letters)."""
    with ctx.app.uow() as uow:
        _own(uow, principal.client_id, subscription_id)
        rows = SubscriptionRepository(uow.connection, uow.now).list_deliveries(subscription_id, status)
    return [
        DeliveryOut(
            subscription_id=r.subscription_id,
            message_id=r.message_id,
            status=r.status,
            attempts=r.attempts,
            last_error=r.last_error,
        ).model_dump()
        for r in rows
    ]


def _event_for(uow: SqlUnitOfWork, principal: Principal, sub: Subscription, message_id: str) -> Seq:
    """The stored event ``message_id`` if this subscription may receive it, else 409.

    It must be an event of a type the subscription takes, of a legal entity both the
    subscription and the caller see; a missing id and another entity's event answer alike.
    """
    found = ReadModels(uow.connection).message(message_id)
    if found is not None and found[2] in EVENT_CLASSES:
        message = uow.exceptions.load_messages([found[0]])[found[0]]
        entity = event_entity(uow, message)
        if sub.wants(found[2], entity) and principal.sees(entity):
            return found
    raise Conflict(f"event {message_id} is not in this subscription's history")


@router.post(
    "/{subscription_id}/redeliveries",
    status_code=202,
    response_model=DeliveryOut,
    responses=problems(*POSTED),
)
def redeliver(
    subscription_id: SubId,
    body: RedeliveryIn,
    request: Request,
    ctx: Ctx,
    principal: EventsManage,
    key: IdempotencyKey,
) -> JSONResponse:
    """Send one event to this subscriber again (for example a dead letter, after a fix).

    Only an event this subscription takes, of a legal entity the caller sees, and only to
    this subscription: other subscribers are not sent it again.
    """

    def command(uow: SqlUnitOfWork) -> Result:
        sub = _own(uow, principal.client_id, subscription_id)
        found = _event_for(uow, principal, sub, body.message_id)
        consumer = consumer_name(sub.kind, found[2])
        if consumer not in ctx.app.registry.consumers:
            raise Conflict(f"the {sub.kind} relay is not running in this hub (set HANDOFFS_EVENTS_OUT)")
        repo = SubscriptionRepository(uow.connection, uow.now)
        before = repo.delivery(sub.id, body.message_id)
        repo.mark(sub.id, body.message_id, "pending", None, attempted=False)
        uow.queue.enqueue_replay([found], {found[2]: [consumer]}, uow.now.timestamp())
        state = repo.delivery(sub.id, body.message_id)
        assert state is not None
        out = DeliveryOut(
            subscription_id=sub.id,
            message_id=body.message_id,
            status=state.status,
            attempts=state.attempts,
            last_error=None,
        ).model_dump()
        return Result(
            202,
            out,
            [
                Audit(
                    "events.redeliver",
                    f"subscription:{sub.id}",
                    None if before is None else before.status,
                    {"message_id": body.message_id},
                )
            ],
        )

    return run_once(ctx, request, principal, key, body.model_dump(mode="json"), command)
