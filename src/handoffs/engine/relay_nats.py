"""CloudEvents to NATS JetStream, de-duplicated by ``Nats-Msg-Id``.

The sender keeps one connection on a private event loop thread (nats-py is asyncio; the
worker is not). It makes sure a stream ``HANDOFFS`` captures ``handoffs.>`` and publishes
each event to ``<subscription subject>.<event type>`` with ``Nats-Msg-Id: <subscription
id>:<event id>``, so a retried publish inside the stream's duplicate window is stored once.

The window is a setting (``HANDOFFS_NATS_DUPLICATE_WINDOW``, seconds, 120 by default): it
must outlast the time between a publish whose acknowledgement was lost and its retry.
The stream is created with it, and updated to it when an existing stream has another.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from handoffs.store.repositories.subscriptions import Subscription

__all__ = ["DEFAULT_DUPLICATE_WINDOW", "STREAM", "NatsSender", "duplicate_window_from"]

STREAM = "HANDOFFS"
DEFAULT_DUPLICATE_WINDOW = 120.0
WINDOW_ENV = "HANDOFFS_NATS_DUPLICATE_WINDOW"


def duplicate_window_from(text: str | None) -> float:
    """The window in seconds from the setting's text; a clear ValueError when it is not one."""
    if text is None or not text.strip():
        return DEFAULT_DUPLICATE_WINDOW
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"{WINDOW_ENV} must be a number of seconds, not {text!r}") from None
    if not 0 < seconds <= 7 * 24 * 3600:
        raise ValueError(f"{WINDOW_ENV} must be between 0 and 604800 seconds, not {text!r}")
    return seconds


class NatsSender:
    kind = "nats"

    def __init__(
        self, url: str, *, timeout: float = 5.0, duplicate_window: float = DEFAULT_DUPLICATE_WINDOW
    ) -> None:
        self._url = url
        self._timeout = timeout
        self._window = duplicate_window
        self._loop: asyncio.AbstractEventLoop | None = None
        self._js: Any = None
        self._nc: Any = None
        self._lock = threading.Lock()

    def _run(self, coro: Any) -> Any:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="nats-relay", daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self._timeout * 2)

    async def _connect(self) -> Any:
        if self._js is None or self._nc is None or not self._nc.is_connected:
            import nats
            from nats.js.api import StreamConfig

            self._nc = await nats.connect(self._url, connect_timeout=self._timeout, max_reconnect_attempts=1)
            self._js = self._nc.jetstream(timeout=self._timeout)
            config = StreamConfig(name=STREAM, subjects=["handoffs.>"], duplicate_window=self._window)
            try:
                info = await self._js.stream_info(STREAM)
            except Exception:  # not there yet: create it
                await self._js.add_stream(config)
            else:
                if info.config.duplicate_window != self._window:
                    info.config.duplicate_window = self._window
                    await self._js.update_stream(info.config)
        return self._js

    async def _publish(self, subject: str, body: bytes, msg_id: str) -> None:
        js = await self._connect()
        await js.publish(subject, body, headers={"Nats-Msg-Id": msg_id}, timeout=self._timeout)

    def send(self, subscription: Subscription, event: dict[str, Any], body: bytes) -> None:
        name = str(event["type"]).split(".")[-2]
        self._run(self._publish(f"{subscription.target}.{name}", body, f"{subscription.id}:{event['id']}"))

    def close(self) -> None:
        if self._loop is None:
            return
        if self._nc is not None:
            try:
                self._run(self._nc.close())
            except Exception:  # closing a broken connection: nothing more to do
                self._nc = None
        self._loop.call_soon_threadsafe(self._loop.stop)
