"""Events out: the outbox relays every event as a CloudEvent to its subscribers.

Each relay is an outbound engine consumer (one per event type and relay kind), so it
inherits the worker's leases, retries with backoff and dead letters. A relay tracks each
subscriber's delivery of each event (``event_deliveries``): a subscriber that answered is
never sent the event again, one that keeps failing is dead-lettered alone, and
``redeliver`` puts it back in line (only it: later runs send only to subscribers still
owed the event). A subscriber whose API client was revoked is never sent anything: that
is checked at every send, and recorded on the delivery.

CloudEvents 1.0, structured JSON: ``specversion, id, source, type, subject, time,
datacontenttype, correlationid`` and ``data`` (the event's fields).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import orjson

from handoffs.domain.codec import encode
from handoffs.domain.messages import MESSAGE_TYPES, Event, Message
from handoffs.engine.egress import EgressPolicy
from handoffs.engine.errors import DeliveryFailed, TransientError
from handoffs.engine.registry import Handler, Registry
from handoffs.store.repositories.api_clients import ApiClientRepository
from handoffs.store.repositories.subscriptions import Subscription, SubscriptionRepository
from handoffs.store.uow import SqlUnitOfWork, UowFactory

__all__ = [
    "CLIENT_REVOKED",
    "EVENT_CLASSES",
    "SOURCE",
    "Sender",
    "attach",
    "cloudevent",
    "consumer_name",
    "event_entity",
    "relay_handlers",
    "relays_from_env",
]

SOURCE = "/handoffs/hub"
CLIENT_REVOKED = "the subscriber's API client was revoked"
EVENT_CLASSES: dict[str, type[Message]] = {n: c for n, c in MESSAGE_TYPES.items() if issubclass(c, Event)}


def consumer_name(kind: str, event_type: str) -> str:
    return f"relay.{kind}.{event_type}"


def cloudevent(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = encode(message)
    name = type(message).__name__
    subject = next((str(data[k]) for k in ("entry_id", "invoice_id", "project_id") if k in data), None)
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": message.message_id,
        "source": SOURCE,
        "type": f"dev.handoffs.{name}.v1",
        "time": message.occurred_at.isoformat(),
        "datacontenttype": "application/json",
        "correlationid": message.correlation_id,
        "data": data,
    }
    if subject is not None:
        event["subject"] = subject
    return event


def event_entity(uow: SqlUnitOfWork, message: Message) -> str | None:
    """The legal entity an event belongs to, for entity-scoped subscribers (None: firm-wide only).

    Found through the event's invoice, project, time entry or contract, in that order.
    """
    invoice_id = getattr(message, "invoice_id", None)
    if isinstance(invoice_id, str):
        invoice = uow.invoices.get(invoice_id)
        if invoice is not None:
            return str(invoice.legal_entity_id)
    project_id = getattr(message, "project_id", None)
    entry_id = getattr(message, "entry_id", None)
    if not isinstance(project_id, str) and isinstance(entry_id, str):
        stored = uow.time_entries.get(entry_id)
        project_id = None if stored is None else stored.entry.project_id
    contract_id = getattr(message, "contract_id", None)
    if not isinstance(project_id, str) and isinstance(contract_id, str):
        contract = uow.objects.get("contract", contract_id)
        return None if contract is None else str(contract.legal_entity_id)
    if isinstance(project_id, str):
        project = uow.objects.get("project", project_id)
        if project is not None:
            return str(project.legal_entity_id)
    return None


class Sender(Protocol):
    """Delivers one CloudEvent to one subscription; raises on failure."""

    kind: str

    def send(self, subscription: Subscription, event: dict[str, Any], body: bytes) -> None: ...


class _Relay:
    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    def _owed(self, message: Message, uow: SqlUnitOfWork) -> list[Subscription]:
        """The subscribers this run sends ``message`` to.

        The first run fans out to every subscriber that wants the event and records each as
        owed (``pending``) before anything is sent. Later runs (retries, a redelivery) send
        only to those still owed, so redelivering to one subscriber never reaches another,
        nor one that subscribed after the event.
        """
        repo = SubscriptionRepository(uow.connection, uow.now)
        mine = repo.find(kind=self._sender.kind)
        done = repo.deliveries(message.message_id)
        if any(s.id in done for s in mine):
            subs = [s for s in mine if s.active and s.id in done and done[s.id].status == "pending"]
        else:
            entity = event_entity(uow, message)
            subs = [s for s in mine if s.wants(type(message).__name__, entity)]
            for sub in subs:
                repo.mark(sub.id, message.message_id, "pending", None, attempted=False)
        # Checked at every send, not only when the client was revoked: an event queued
        # before, or a client revoked some other way, is not sent to a revoked client.
        live = ApiClientRepository(uow.connection, uow.now).live(s.client_id for s in subs)
        for sub in subs:
            if sub.client_id not in live:
                repo.mark(sub.id, message.message_id, "dead", CLIENT_REVOKED, attempted=False)
        uow.commit()
        return [s for s in subs if s.client_id in live]

    def call(self, message: Message, uow_factory: Callable[[], SqlUnitOfWork], ports: object) -> int:
        with uow_factory() as uow:
            subs = self._owed(message, uow)
        event = cloudevent(message)
        body = orjson.dumps(event)
        failed: list[str] = []
        for sub in subs:
            error: str | None = None
            try:
                self._sender.send(sub, event, body)
            except Exception as exc:  # each failure is recorded per subscriber, then retried
                # Only a sender's own generic reason is kept: never the target's answer or
                # a socket's or resolver's text, which would tell a client what answered.
                error = str(exc)[:200] if isinstance(exc, DeliveryFailed) else "delivery failed"
                failed.append(f"{sub.id} ({error})")
            with uow_factory() as uow:
                SubscriptionRepository(uow.connection, uow.now).mark(
                    sub.id, message.message_id, "pending" if error else "delivered", error
                )
                uow.commit()
        if failed:
            raise TransientError(f"{len(failed)} subscriber(s) failed: {'; '.join(failed)}"[:1000])
        return len(subs)

    def record(self, message: Message, outcome: object, uow: SqlUnitOfWork, ports: object) -> None:
        """Deliveries are recorded one by one as they happen; nothing is left to store."""

    def on_dead(self, message: Message, reason: str, uow: SqlUnitOfWork, ports: object) -> None:
        repo = SubscriptionRepository(uow.connection, uow.now)
        for sub_id, state in repo.deliveries(message.message_id).items():
            if state.status == "pending":
                repo.mark(sub_id, message.message_id, "dead", state.last_error or reason, attempted=False)


def relay_handlers(senders: Sequence[Sender]) -> list[Handler]:
    """One outbound handler per event type and sender."""
    handlers: list[Handler] = []
    for sender in senders:
        relay = _Relay(sender)
        for name, cls in sorted(EVENT_CLASSES.items()):
            handlers.append(
                Handler(
                    consumer=consumer_name(sender.kind, name),
                    message_type=cls,
                    call=relay.call,
                    record=relay.record,
                    on_dead=relay.on_dead,
                )
            )
    return handlers


def relays_from_env(
    env: Mapping[str, str] | None = None, *, egress: EgressPolicy | None = None
) -> list[Handler]:
    """Relays named in ``HANDOFFS_EVENTS_OUT`` (``webhook``, ``nats`` or both, comma-separated).

    Every hub process that publishes events (API, worker, load) must agree on this, since
    a message's work items are created when it is stored. NATS needs ``HANDOFFS_NATS_URL``
    and keeps repeats out for ``HANDOFFS_NATS_DUPLICATE_WINDOW`` seconds (120 by default).
    Webhooks go where ``egress`` allows: by default public addresses only (the composition
    root passes the one built from ``HANDOFFS_WEBHOOK_ALLOW_NETWORKS``).
    """
    env = os.environ if env is None else env
    kinds = {k.strip() for k in env.get("HANDOFFS_EVENTS_OUT", "").split(",") if k.strip()}
    senders: list[Sender] = []
    if "webhook" in kinds:
        from handoffs.engine.relay_webhook import WebhookSender

        senders.append(WebhookSender(policy=egress))
    if "nats" in kinds:
        from handoffs.engine.relay_nats import WINDOW_ENV, NatsSender, duplicate_window_from

        window = duplicate_window_from(env.get(WINDOW_ENV))
        senders.append(
            NatsSender(env.get("HANDOFFS_NATS_URL", "nats://127.0.0.1:4222"), duplicate_window=window)
        )
    return relay_handlers(senders)


def attach(app: Any, relays: Sequence[Handler]) -> None:
    """Add relay consumers to a built application (its registry and unit-of-work factory).

    Until the composition root registers relays itself, every process that publishes
    events must call this with the same relays, since work items are made at publish time.
    """
    if not relays:
        return
    current = [app.registry.handler(c) for c in app.registry.consumers]
    app.registry = Registry([*current, *(h for h in relays if h.consumer not in app.registry.consumers)])
    app.uow = UowFactory(app.engine, app.registry.subscriptions, app.uow.clock)
