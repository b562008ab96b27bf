"""Event subscriptions (webhooks, NATS subjects) and each subscriber's delivery of each event.

Webhook secrets, ours (signing outbound deliveries) and connected systems' (checking inbound
ones), must be read back to sign and check, so they are sealed with the master secret
(:mod:`handoffs.store.sealing`), never stored in plain text. Callers see plain secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from handoffs.keyring import Keyring
from handoffs.store.sealing import RECEIVER_PURPOSE, SUBSCRIPTION_PURPOSE, Sealer
from handoffs.store.tables import event_deliveries as ed
from handoffs.store.tables import event_subscriptions as es
from handoffs.store.tables import webhook_receivers

__all__ = ["DeliveryState", "Subscription", "SubscriptionRepository"]


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    client_id: str
    kind: str
    target: str
    event_types: frozenset[str] | None  # None = every type
    entities: frozenset[str] | None  # None = every legal entity
    secret: str | None
    active: bool
    created_at: datetime

    def wants(self, event_type: str, entity: str | None) -> bool:
        if not self.active or (self.event_types is not None and event_type not in self.event_types):
            return False
        return self.entities is None or (entity is not None and entity in self.entities)


@dataclass(frozen=True, slots=True)
class DeliveryState:
    subscription_id: str
    message_id: str
    status: str
    attempts: int
    last_error: str | None


def _set(value: str) -> frozenset[str] | None:
    return None if value == "*" else frozenset(value.split())


class SubscriptionRepository:
    def __init__(self, conn: Connection, now: datetime, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._now = now
        self._sealer = Sealer(conn, keyring)

    def _sub(self, r: Any) -> Subscription:
        secret = self._sealer.open(SUBSCRIPTION_PURPOSE, r.secret)
        # A webhook whose secret no longer opens (the master secret changed) cannot be signed:
        # it is treated as gone, and its owner subscribes again to get a new secret.
        usable = r.secret is None or secret is not None
        return Subscription(
            r.id,
            r.client_id,
            r.kind,
            r.target,
            _set(r.event_types),
            _set(r.entities),
            secret,
            bool(r.active) and usable,
            r.created_at,
        )

    def add(
        self,
        sub_id: str,
        client_id: str,
        kind: str,
        target: str,
        event_types: Sequence[str] | None,
        entities: frozenset[str] | None,
        secret: str | None,
    ) -> None:
        self._conn.execute(
            insert(es).values(
                id=sub_id,
                client_id=client_id,
                kind=kind,
                target=target,
                event_types="*" if not event_types else " ".join(sorted(set(event_types))),
                entities="*" if entities is None else " ".join(sorted(entities)),
                secret=self._sealer.seal(SUBSCRIPTION_PURPOSE, secret),
                active=True,
                created_at=self._now,
            )
        )

    def get(self, sub_id: str) -> Subscription | None:
        row = self._conn.execute(select(es).where(es.c.id == sub_id)).first()
        return None if row is None else self._sub(row)

    def find(
        self, *, client_id: str | None = None, kind: str | None = None, active_only: bool = False
    ) -> list[Subscription]:
        query = select(es).order_by(es.c.created_at, es.c.id)
        if client_id is not None:
            query = query.where(es.c.client_id == client_id)
        if kind is not None:
            query = query.where(es.c.kind == kind)
        if active_only:
            query = query.where(es.c.active.is_(True))
        return [self._sub(r) for r in self._conn.execute(query)]

    def deactivate(self, sub_id: str) -> None:
        self._conn.execute(update(es).where(es.c.id == sub_id).values(active=False))

    def close_pending(self, sub_id: str, reason: str) -> int:
        """Mark the subscription's owed deliveries ``dead`` with ``reason``; returns how many."""
        result = self._conn.execute(
            update(ed)
            .where(ed.c.subscription_id == sub_id, ed.c.status == "pending")
            .values(status="dead", last_error=reason, updated_at=self._now)
        )
        return int(result.rowcount or 0)

    def deliveries(self, message_id: str) -> dict[str, DeliveryState]:
        rows = self._conn.execute(select(ed).where(ed.c.message_id == message_id))
        return {
            r.subscription_id: DeliveryState(
                r.subscription_id, r.message_id, r.status, r.attempts, r.last_error
            )
            for r in rows
        }

    def delivery(self, sub_id: str, message_id: str) -> DeliveryState | None:
        return self.deliveries(message_id).get(sub_id)

    def mark(
        self, sub_id: str, message_id: str, status: str, error: str | None = None, *, attempted: bool = True
    ) -> None:
        """Record one attempt's outcome (or a state change such as ``dead`` or ``pending``)."""
        current = self.delivery(sub_id, message_id)
        if current is None:
            try:
                with self._conn.begin_nested():
                    self._conn.execute(
                        insert(ed).values(
                            subscription_id=sub_id,
                            message_id=message_id,
                            status=status,
                            attempts=int(attempted),
                            last_error=error,
                            updated_at=self._now,
                        )
                    )
                return
            except IntegrityError:
                current = self.delivery(sub_id, message_id)
        attempts = (current.attempts if current else 0) + int(attempted)
        self._conn.execute(
            update(ed)
            .where(ed.c.subscription_id == sub_id, ed.c.message_id == message_id)
            .values(status=status, attempts=attempts, last_error=error, updated_at=self._now)
        )

    def list_deliveries(
        self, sub_id: str, status: str | None = None, limit: int = 100
    ) -> list[DeliveryState]:
        query = select(ed).where(ed.c.subscription_id == sub_id).order_by(ed.c.updated_at.desc()).limit(limit)
        if status is not None:
            query = query.where(ed.c.status == status)
        return [
            DeliveryState(r.subscription_id, r.message_id, r.status, r.attempts, r.last_error)
            for r in self._conn.execute(query)
        ]

    def receiver_secret(self, system: str) -> str | None:
        """The secret ``system`` signs its webhooks with; None if unset or it no longer opens."""
        row = self._conn.execute(
            select(webhook_receivers.c.secret).where(webhook_receivers.c.system == system)
        ).first()
        return None if row is None else self._sealer.open(RECEIVER_PURPOSE, row.secret)

    def set_receiver_secret(self, system: str, secret: str) -> None:
        sealed = self._sealer.seal(RECEIVER_PURPOSE, secret)
        exists = self._conn.execute(
            select(webhook_receivers.c.system).where(webhook_receivers.c.system == system)
        ).first()
        if exists is not None:
            self._conn.execute(
                update(webhook_receivers).where(webhook_receivers.c.system == system).values(secret=sealed)
            )
        else:
            self._conn.execute(
                insert(webhook_receivers).values(system=system, secret=sealed, created_at=self._now)
            )
