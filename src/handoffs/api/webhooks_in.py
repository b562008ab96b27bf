"""Inbound webhooks: verify the signature and the replay window, drop repeats, ingest the rest.

The scheme is Standard Webhooks: the sender signs ``"<id>.<timestamp>.<raw body>"`` with
HMAC-SHA256, keyed with the base64-decoded part of the ``whsec_`` secret, and sends
``Webhook-Id``, ``Webhook-Timestamp`` (epoch seconds) and ``Webhook-Signature: v1,<base64
digest>`` (several space-separated during key rotation): what the ``standardwebhooks``
library's ``Webhook(secret).sign`` gives, unchanged.
A delivery id already seen is acknowledged (``duplicate: true``) and not applied again.
Every record is the receiving system's: one that names a ``source_system`` is refused (422);
its ``source_version`` is that system's own and orders its updates.
"""

from __future__ import annotations

import hmac
import json

import orjson
from pydantic import ValidationError as PydanticError

from handoffs.api.commands import _Joined
from handoffs.api.context import ApiContext
from handoffs.api.problems import Unauthorized, Unprocessable
from handoffs.api.schemas import LoadReportOut, WebhookIn, WebhookOut
from handoffs.audit import append
from handoffs.engine.relay_webhook import sign
from handoffs.flows.ingest import ingest_lines
from handoffs.store.repositories.subscriptions import SubscriptionRepository

__all__ = ["receive", "sign"]

_SHAPE = 'the body must be {"records": [canonical records]}'


def _verify(
    secret: str, delivery_id: str, timestamp: str, signature: str, body: bytes, now: float, window: int
) -> None:
    try:
        sent = int(timestamp)
    except ValueError:
        raise Unauthorized("Webhook-Timestamp must be epoch seconds") from None
    if abs(now - sent) > window:
        raise Unauthorized(f"the delivery is outside the {window} s replay window")
    try:
        expected = sign(secret, delivery_id, sent, body)
    except ValueError:
        raise Unauthorized("the receiver's secret is not a Standard Webhooks secret: rotate it") from None
    if not any(hmac.compare_digest(expected, s) for s in signature.split()):
        raise Unauthorized("the webhook signature does not match")


def receive(
    ctx: ApiContext, system: str, delivery_id: str, timestamp: str, signature: str, body: bytes
) -> WebhookOut | None:
    """Apply one signed delivery; None when ``system`` has no receiver set up."""
    with ctx.app.uow() as uow:
        secret = SubscriptionRepository(uow.connection, uow.now).receiver_secret(system)
    if secret is None:
        return None
    _verify(secret, delivery_id, timestamp, signature, body, ctx.now(), ctx.settings.webhook_window)
    try:
        payload = WebhookIn.model_validate(orjson.loads(body))
    except orjson.JSONDecodeError:
        raise Unprocessable(_SHAPE) from None
    except PydanticError as exc:
        said = [str(e["msg"]) for e in exc.errors() if e["type"] == "value_error"]
        raise Unprocessable("; ".join(said) or _SHAPE) from None
    consumer = f"webhook:{system}"
    with ctx.app.uow() as uow:
        if uow.inbox.seen(consumer, [delivery_id]):
            return WebhookOut(delivery_id=delivery_id, duplicate=True, report=None)
        lines = [json.dumps(r) for r in payload.records]
        report = ingest_lines(lines, _Joined(uow), ctx.app.ports, source=system, provenance="sender")
        uow.inbox.record(consumer, [delivery_id])
        append(
            uow.connection,
            at=uow.now,
            actor=f"system:{system}",
            action="system.webhook",
            target=f"delivery:{delivery_id}",
            before=None,
            after=report.as_dict(),
        )
        uow.commit()
    return WebhookOut(delivery_id=delivery_id, duplicate=False, report=LoadReportOut(**report.as_dict()))
