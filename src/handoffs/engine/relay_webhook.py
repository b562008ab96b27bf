"""Signed webhook deliveries of CloudEvents (structured JSON over HTTP POST).

Each request carries ``Webhook-Id`` (the CloudEvent id: receivers drop repeats),
``Webhook-Timestamp`` and ``Webhook-Signature: v1,<base64 HMAC-SHA256 of
"<id>.<timestamp>.<body>">`` keyed with the subscription's secret. Any 2xx is delivered;
anything else, or no answer, is retried by the worker with backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from handoffs.engine.relay import sign
from handoffs.store.repositories.subscriptions import Subscription

__all__ = ["WebhookSender"]


class WebhookSender:
    kind = "webhook"

    def __init__(self, client: httpx.Client | None = None, now: Callable[[], float] = time.time) -> None:
        self._client = client or httpx.Client(timeout=10.0, follow_redirects=False)
        self._now = now

    def send(self, subscription: Subscription, event: dict[str, Any], body: bytes) -> None:
        timestamp = int(self._now())
        headers = {
            "Content-Type": "application/cloudevents+json",
            "Webhook-Id": str(event["id"]),
            "Webhook-Timestamp": str(timestamp),
            "Webhook-Signature": sign(subscription.secret or "", str(event["id"]), timestamp, body),
            "User-Agent": "handoffs-relay/1",
        }
        response = self._client.post(subscription.target, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"subscriber answered {response.status_code}")

    def close(self) -> None:
        self._client.close()
