"""Render ``docs/events.md`` from the event catalog in ``domain/messages.py``.

Regenerate with ``python -m handoffs.api.eventdocs > docs/events.md``; a test fails when the
file no longer matches the catalog.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from handoffs.domain.messages import Message
from handoffs.engine.relay import EVENT_CLASSES

__all__ = ["data_schema", "render"]

_ENVELOPE = {"message_id", "occurred_at", "correlation_id"}
_TYPES: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    bool: {"type": "boolean"},
    Decimal: {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "exact decimal"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
}

_INTRO = """# Events out

Generated from `src/handoffs/domain/messages.py` by `python -m handoffs.api.eventdocs`; do not edit.

Every event the hub stores in its outbox is relayed to subscribers as a
[CloudEvents 1.0](https://github.com/cloudevents/spec) structured JSON document:

| attribute | value |
| --- | --- |
| `specversion` | `"1.0"` |
| `id` | the event's `message_id` (repeats of the same id are the same event: drop them) |
| `source` | `/handoffs/hub` |
| `type` | `dev.handoffs.<EventName>.v1` |
| `subject` | the entry, invoice or project the event is about |
| `time` | when the event happened (`occurred_at`; an approval: the source's approval time) |
| `datacontenttype` | `application/json` |
| `correlationid` | the business flow (`project:<id>`), for tracing and replay |
| `data` | the event's fields, below (`message_id`, `occurred_at`, `correlation_id` included) |

## Subscribing

`POST /v1/subscriptions` (scope `events:manage`, an `Idempotency-Key`) with
`{"kind": "webhook", "target": "https://...", "event_types": [...]}` or
`{"kind": "nats", "target": "handoffs.<subject>", "event_types": [...]}`; omit
`event_types` for all. A subscription made by a client limited to some legal entities
receives only events of projects and invoices of those entities. When the client is
revoked (its last API key), its subscriptions end and nothing more is sent to them, events
already queued included; the deliveries they were owed are recorded `dead` with the reason.

The relays are engine consumers (one per event type and relay kind), so they inherit the
worker's retries with exponential backoff and its dead letters. Enable them in every hub
process with `HANDOFFS_EVENTS_OUT=webhook,nats` (and `HANDOFFS_NATS_URL`).

**Webhooks.** `POST` to the target with `Content-Type: application/cloudevents+json` and
`Webhook-Id` (the event id), `Webhook-Timestamp` (epoch seconds) and
`Webhook-Signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, as
[Standard Webhooks](https://www.standardwebhooks.com/) defines it. The secret, returned once
when the subscription was created, is `whsec_` and the base64 of 32 random bytes; the HMAC
key is the base64-decoded part after `whsec_`. A subscriber verifies with the scheme's
library as it would for any sender, e.g. in Python
`standardwebhooks.Webhook(secret).verify(body, headers)` (the hub signs with that library).
A secret made before the hub followed the scheme (not base64 after `whsec_`) fails its
deliveries as a configuration dead letter: make a new subscription to get a standard one.
Any 2xx is delivered; anything else is retried, and after the last attempt the event is a
dead letter for that subscriber only (`GET /v1/subscriptions/{id}/deliveries?status=dead`). `POST
/v1/subscriptions/{id}/redeliveries {"message_id": ...}` sends it again, to that
subscription only; it takes only an event the subscription takes, of a legal entity the
caller sees (any other id answers `409`, as a missing one does). A retry or redelivery never
reaches a subscriber that already has the event, nor one that subscribed after it.

Webhooks go to public addresses only. A target whose host is or resolves to a loopback,
link-local (cloud metadata `169.254.169.254`), private (RFC 1918, CGNAT, IPv6 unique-local),
multicast or unspecified address, or an IPv6 form of one (`::ffff:10.0.0.1`, 6to4, NAT64),
is refused when the subscription is made (422) and again before every send, on the
addresses the name resolves to then; the request goes to the address that was checked, so
a name re-pointed in between cannot redirect it. An operator admits a network with
`HANDOFFS_WEBHOOK_ALLOW_NETWORKS` (CIDR, comma-separated, e.g. `127.0.0.1/32` for a local
demo), the same in every hub process. A failed delivery records only a generic reason
(`HTTP 503`, `connection failed`, `timed out`, or that the address is refused), never what
the target answered.

**NATS JetStream.** Published to `<target>.<EventName>` in the stream `HANDOFFS`
(subjects `handoffs.>`, created if missing) with `Nats-Msg-Id: <subscription id>:<event id>`,
so a publish retried inside the stream's duplicate window is stored once. The window is
`HANDOFFS_NATS_DUPLICATE_WINDOW` seconds (120 by default); a relay sets the stream to it when
it connects, also on a stream made earlier with another window. Keep it longer than the
time a lost acknowledgement takes to be retried (the worker's backoff).

**Event time.** Each CloudEvent's `time` is when that event happened in the hub: an
`InvoicePosted` says when the ERP's answer was recorded, not when the time entries it bills
were approved. A `TimeEntryApproved` carries the source's approval time.

## Event types
"""


def data_schema(cls: type[Message]) -> dict[str, Any]:
    """The JSON Schema of a CloudEvent's ``data`` for one event class."""
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        base = args[0] if optional and args else hint
        schema = dict(_TYPES.get(base, {"type": "string"}))
        properties[f.name] = {"anyOf": [schema, {"type": "null"}]} if optional else schema
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


def render() -> str:
    parts = [_INTRO]
    for name, cls in sorted(EVENT_CLASSES.items()):
        doc = (cls.__doc__ or "").strip()
        own = [f.name for f in dataclasses.fields(cls) if f.name not in _ENVELOPE]
        parts.append(f"\n### {name}\n")
        parts.append(
            f"CloudEvent type `dev.handoffs.{name}.v1`; fields beyond the envelope: "
            f"{', '.join(f'`{n}`' for n in own)}.\n"
        )
        if doc and not doc.startswith(f"{name}("):
            parts.append(f"\n{doc}\n")
        schema = orjson.dumps(data_schema(cls), option=orjson.OPT_INDENT_2).decode()
        parts.append(f"\n```json\n{schema}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
