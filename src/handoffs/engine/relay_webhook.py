"""Signed webhook deliveries of CloudEvents (structured JSON over HTTP POST).

Each request carries ``Webhook-Id`` (the CloudEvent id: receivers drop repeats),
``Webhook-Timestamp`` and ``Webhook-Signature: v1,<base64 HMAC-SHA256 of
"<id>.<timestamp>.<body>">``, signed as Standard Webhooks says, by its reference library: the
secret is ``whsec_<base64 key>`` and the HMAC key is the base64-decoded part after
``whsec_``, so a subscriber verifies with ``standardwebhooks.Webhook(secret).verify(body,
headers)`` as it would for any other sender. Any 2xx is delivered; anything else, or no
answer, is retried by the worker with backoff.

Before each request the target's host name is resolved and every address checked against
the :class:`~handoffs.engine.egress.EgressPolicy`; the request then goes to the checked
address (with the original ``Host`` header and TLS server name), so the name cannot be
re-pointed between the check and the connection. What a failure records is generic
(``HTTP 500``, ``connection failed``): never the subscriber's answer or the resolver's text.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from handoffs.engine.egress import EgressPolicy, TargetRefused, endpoint
from handoffs.engine.errors import DeliveryFailed, TerminalError
from handoffs.store.repositories.subscriptions import Subscription

__all__ = ["WebhookSender", "new_secret", "sign"]


NOT_STANDARD = "the secret is not a Standard Webhooks secret (whsec_ and base64): rotate it"


def new_secret() -> str:
    """A new Standard Webhooks secret: ``whsec_`` and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def sign(secret: str, delivery_id: str, timestamp: int | str, body: bytes) -> str:
    """Standard Webhooks signature: ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``.

    The key is the base64-decoded part of ``secret`` after ``whsec_``, as the scheme and its
    reference library (which signs here) define it.
    """
    at = datetime.fromtimestamp(int(timestamp), UTC)
    try:
        signer = Webhook(secret)
    except (binascii.Error, ValueError):
        raise ValueError(NOT_STANDARD) from None
    return signer.sign(msg_id=delivery_id, timestamp=at, data=body)


class WebhookSender:
    """Posts CloudEvents to subscribers' URLs, to addresses the ``policy`` allows only."""

    kind = "webhook"

    def __init__(
        self,
        client: httpx.Client | None = None,
        now: Callable[[], float] = time.time,
        *,
        policy: EgressPolicy | None = None,
    ) -> None:
        self._client = client or httpx.Client(timeout=10.0, follow_redirects=False)
        self._now = now
        self._policy = policy or EgressPolicy()

    def _pinned(self, target: str) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
        """The target's URL with its host replaced by the checked address, Host header and SNI."""
        url = httpx.URL(target)
        try:
            address = self._policy.resolve(*endpoint(target))
        except TargetRefused as exc:
            raise DeliveryFailed(str(exc)) from None
        headers = {"Host": url.netloc.decode("ascii")}
        extensions: dict[str, Any] = {}
        if url.scheme == "https":
            # Verify the certificate against the subscriber's name, and do not keep the
            # connection: the pool knows it by address, and another name there is another peer.
            extensions["sni_hostname"] = url.host
            headers["Connection"] = "close"
        return url.copy_with(host=address), headers, extensions

    def send(self, subscription: Subscription, event: dict[str, Any], body: bytes) -> None:
        url, host, extensions = self._pinned(subscription.target)
        timestamp = int(self._now())
        try:
            signature = sign(subscription.secret or "", str(event["id"]), timestamp, body)
        except ValueError:
            raise TerminalError(NOT_STANDARD, category="configuration") from None
        headers = {
            **host,
            "Content-Type": "application/cloudevents+json",
            "Webhook-Id": str(event["id"]),
            "Webhook-Timestamp": str(timestamp),
            "Webhook-Signature": signature,
            "User-Agent": "handoffs-relay/1",
        }
        try:
            response = self._client.post(url, content=body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            raise DeliveryFailed("timed out") from None
        except httpx.HTTPError:
            raise DeliveryFailed("connection failed") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code}")

    def close(self) -> None:
        self._client.close()
