"""What every simulated system shares: state, fault middleware, control routes, JSON output."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.middleware.base import RequestResponseEndpoint

from handoffs.simulator.faults import FaultInjector, FaultSettings, fault_settings
from handoffs.simulator.server import SimServer

__all__ = ["SIM_EPOCH", "NativeJSON", "SimSystem"]

SIM_EPOCH = datetime(2025, 4, 10, tzinfo=UTC)
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        as_float = float(value)  # a JSON number, as the real APIs send it; exact for these values
        if Decimal(repr(as_float)) != value:
            return str(value)
        return as_float
    raise TypeError(f"cannot render {type(value).__name__}")


class NativeJSON(JSONResponse):
    """JSON as the imitated API sends it: Decimal values become JSON numbers."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_number, ensure_ascii=False, separators=(",", ":")).encode()


class SimSystem:
    """One simulated system: a FastAPI app, its own state, and a fault injector.

    Subclasses set ``name`` and ``documented_limit``, add routes in ``routes`` and shape
    errors in ``error``. ``received`` lists every accepted write in arrival order and
    ``calls`` counts requests by method and path, so tests can assert what arrived.
    """

    name: ClassVar[str] = "system"
    documented_limit: ClassVar[tuple[int, float] | None] = None
    throttle_status: ClassVar[int] = 429
    throttle_code: ClassVar[str] = "TOO_MANY_REQUESTS"
    not_writes: ClassVar[tuple[str, ...]] = ()  # POST path prefixes that store nothing (token endpoints)

    def __init__(self, faults: str | FaultSettings = "none", seed: int = 0, **overrides: Any) -> None:
        self.faults = FaultInjector(
            self.name, fault_settings(faults, **overrides), seed, self.documented_limit
        )
        self.received: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        self.stop_requested = threading.Event()
        self._ticks = 0
        self.app = FastAPI(title=f"simulated {self.name}", openapi_url=None, docs_url=None, redoc_url=None)
        self.app.middleware("http")(self._middleware)
        self._control_routes()
        self.routes(self.app)

    # -- to override ---------------------------------------------------------------------------
    def routes(self, app: FastAPI) -> None:
        """Register the imitated API's routes."""

    def error(self, status: int, code: str, message: str) -> Response:
        """An error response in the imitated API's format."""
        return NativeJSON({"error": code, "message": message}, status_code=status)

    # -- helpers -------------------------------------------------------------------------------
    def now(self) -> datetime:
        """A logical clock: each call moves one second on from a fixed epoch (deterministic)."""
        self._ticks += 1
        return SIM_EPOCH + timedelta(seconds=self._ticks)

    def remember(self, operation: str, **detail: Any) -> None:
        self.received.append({"operation": operation, **detail})

    def serve(self) -> SimServer:
        """A server for this system's app (not yet started)."""
        return SimServer(self.app)

    def state(self) -> dict[str, Any]:
        return {
            "system": self.name,
            "requests": self.faults.requests,
            "calls": dict(sorted(self.calls.items())),
            "received": len(self.received),
            "faults": dict(sorted(self.faults.fired.items())),
        }

    # -- plumbing ------------------------------------------------------------------------------
    def _control_routes(self) -> None:
        @self.app.get("/_sim/state")
        async def sim_state() -> Response:
            return NativeJSON(self.state())

        @self.app.get("/_sim/received")
        async def sim_received() -> Response:
            return NativeJSON(self.received)

        @self.app.post("/_sim/shutdown")
        async def sim_shutdown() -> Response:
            self.stop_requested.set()
            return NativeJSON({"stopping": True})

    async def _middleware(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if path.startswith("/_sim/"):
            return await call_next(request)
        number = self.faults.next_request()
        self.calls[f"{request.method} {path}"] += 1
        s, f = self.faults.settings, self.faults
        if f.in_outage(number):
            f.record("outage", path=path)
            return self.error(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable")
        wait = f.throttled()
        if wait is not None:
            f.record("throttle", path=path, retry_after=wait)
            response = self.error(self.throttle_status, self.throttle_code, "Request limit exceeded")
            response.headers["Retry-After"] = str(wait)
            return response
        if f.roll("latency", s.latency_rate):
            f.record("latency", path=path, ms=s.latency_ms)
            await asyncio.sleep(s.latency_ms / 1000)
        if f.roll("timeout", s.timeout_rate):
            f.record("timeout", path=path, seconds=s.timeout_seconds)
            await asyncio.sleep(s.timeout_seconds)
            return self.error(504, "GATEWAY_TIMEOUT", "The request timed out")
        is_write = request.method in _WRITES and not path.startswith(self.not_writes)
        if is_write and f.roll("slow_write", s.slow_write_rate):
            # Read the body now: the handler still gets it after the client has gone away.
            await request.body()
            f.record("slow_write", path=path, seconds=s.slow_write_seconds)
            await asyncio.sleep(s.slow_write_seconds)  # the client times out meanwhile
            return await call_next(request)  # ...and the write lands after it gave up
        response = await call_next(request)
        if request.method in _WRITES and response.status_code < 400 and f.roll("lost_ack", s.lost_ack_rate):
            async for _ in response.body_iterator:  # type: ignore[attr-defined]
                pass  # the write is done; its acknowledgement is dropped
            f.record("lost_ack", path=path, status=response.status_code)
            return self.error(504, "GATEWAY_TIMEOUT", "Upstream timed out before responding")
        return response
