"""The HTTP layer every connector shares: one ``httpx.Client`` per system, guarded and classified.

Each request passes the engine's :class:`~handoffs.engine.guard.SystemGuard` (the system's
shared token bucket and circuit breaker), runs with timeouts, and its outcome is classified:

* timeouts, connection errors, 5xx, 408 and 429 (or Salesforce's 403
  ``REQUEST_LIMIT_EXCEEDED``) → :class:`TransientError` / :class:`RateLimited` carrying the
  server's ``Retry-After``; retried here a few times, then handed to the engine;
* any other 4xx → :class:`TerminalError` naming the system, method, path and status;
* for a write sent with ``write=True``, a read timeout, a connection lost after sending, or
  a 5xx → :class:`Uncertain`, never retried here: the write may have happened, and the
  connector must look for the record first (:mod:`handoffs.engine.uncertain`).

Messages hold the path (never the query string) and a redacted snippet of the body, so no
credential reaches a log line, an exception or a stored error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
import orjson

from handoffs.connectors.secrets import REDACTOR
from handoffs.domain.ports import Guard
from handoffs.engine.errors import RateLimited, TerminalError, TransientError, Uncertain

__all__ = ["HttpClient", "HttpPolicy", "classify", "parse_json", "retry_after"]

T = TypeVar("T")
log = logging.getLogger("handoffs.connectors.http")
log.addFilter(REDACTOR)


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """Timeouts and the in-process retry budget of one system's client."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    attempts: int = 5  # tries inside one call before the engine takes over
    backoff: float = 0.05  # first wait when the server gives no Retry-After
    max_wait: float = 5.0  # longer Retry-After values go back to the engine, not a sleep


class _NoGuard:
    def call(self, system: str, fn: Callable[[], T]) -> T:
        return fn()


def parse_json(response: httpx.Response) -> Any:
    """Decode JSON with every number that has a fraction as ``Decimal`` (never float)."""
    import json

    return json.loads(response.content or b"null", parse_float=Decimal)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _snippet(response: httpx.Response) -> str:
    text = response.text[:300].replace("\n", " ")
    return REDACTOR.redact(text)


def classify(system: str, response: httpx.Response) -> Exception | None:
    """The engine error a response stands for, or None when it succeeded."""
    status = response.status_code
    if status < 400:
        return None
    where = f"{system} {response.request.method} {response.request.url.path}"
    detail = f"{where} answered {status}: {_snippet(response)}"
    limited = status == 429 or (status == 403 and b"REQUEST_LIMIT_EXCEEDED" in response.content)
    if limited:
        return RateLimited(detail, retry_after=retry_after(response))
    if status >= 500 or status == 408:
        return TransientError(detail, retry_after=retry_after(response), category="system_unavailable")
    category = "auth" if status in (401, 403) else "rejected"
    return TerminalError(detail, category=category)


class HttpClient:
    """A system's HTTP client: base URL, auth, guard, timeouts, retries, classification.

    Args:
        system: the system's name in ``handoffs.yaml`` (guard key and error prefix).
        base_url: where the system's API lives.
        auth: an ``httpx.Auth`` from :mod:`handoffs.connectors.auth`, or None.
        guard: the engine's shared rate limit and breaker; a no-op when None.
        headers: headers sent on every request (``User-Agent``, account ids...).
        transport: an ``httpx`` transport (tests); the default opens real sockets.
    """

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        guard: Guard | None = None,
        headers: dict[str, str] | None = None,
        policy: HttpPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.system = system
        self.policy = policy or HttpPolicy()
        p = self.policy
        self.guard: Guard = guard or _NoGuard()
        self.sleep = sleep
        self.requests = 0
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=auth,
            headers={"User-Agent": "Handoffs (https://github.com/handoffs)", **(headers or {})},
            timeout=httpx.Timeout(p.read_timeout, connect=p.connect_timeout),
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        retry: bool = True,
        write: bool = False,
        accept: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; retry transient failures a few times, then raise the engine error.

        Pass ``retry=False`` for a write that is not idempotent (a plain create): the caller
        must first look for the record a lost acknowledgement may have created. With
        ``write=True`` a write whose answer never came raises :class:`Uncertain` at once.
        Statuses in ``accept`` are returned instead of raised (the caller reads them).
        """
        wait = self.policy.backoff
        attempts = self.policy.attempts if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                return self.guard.call(self.system, lambda: self._once(method, url, write, accept, **kwargs))
            except TransientError as exc:
                delay = exc.retry_after if exc.retry_after is not None else wait
                if attempt == attempts or delay > self.policy.max_wait or isinstance(exc, Uncertain):
                    raise
                log.info("%s: %s; retrying in %.2fs (attempt %d)", self.system, exc, delay, attempt)
                self.sleep(delay)
                wait = min(wait * 2, self.policy.max_wait)
        raise AssertionError("unreachable")

    def _once(
        self, method: str, url: str, write: bool = False, accept: tuple[int, ...] = (), **kwargs: Any
    ) -> httpx.Response:
        self.requests += 1
        # Only a write that may have reached the server is uncertain; one never connected is not.
        error_class = Uncertain if write else TransientError
        try:
            response = self.http.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TransientError(
                f"{self.system} {method} {_path(url)} failed: {REDACTOR.redact(str(exc))}",
                category="system_unavailable",
            ) from None
        except httpx.TimeoutException as exc:
            raise error_class(
                f"{self.system} {method} {_path(url)} timed out ({type(exc).__name__})", category="timeout"
            ) from None
        except httpx.TransportError as exc:
            raise error_class(
                f"{self.system} {method} {_path(url)} failed: {REDACTOR.redact(str(exc))}",
                category="system_unavailable",
            ) from None
        if response.status_code in accept:
            return response
        error = classify(self.system, response)
        if write and isinstance(error, TransientError) and response.status_code >= 500:
            raise Uncertain(str(error), category="uncertain")
        if error is not None:
            raise error
        return response

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON body (decimals exact)."""
        return parse_json(self.request(method, url, **kwargs))


def _path(url: str) -> str:
    return httpx.URL(url).path


def dumps(value: Any) -> bytes:
    """JSON for a request body: ``Decimal`` as a JSON number written exactly."""
    return orjson.dumps(value, default=_decimal_number)


def _decimal_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    raise TypeError(f"cannot send {type(value).__name__} as JSON")
