"""What every request shares: the wired application and the API's own settings."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from handoffs.bootstrap import App

__all__ = ["ApiContext", "ApiSettings", "Principal"]

_MAX_REQUEST_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Knobs of the governed API.

    Attributes:
        token_ttl: lifetime of an OAuth2 access token, seconds.
        idempotency_keep: how long a stored first response answers a repeated key (>= 24 h).
        webhook_window: an inbound webhook older or newer than this (seconds) is refused.
        default_rate / default_burst: a client's token bucket unless set on the client.
        exception_budget / exception_window: exceptions one client's records may raise in a
            sliding window (seconds); past it an upsert is refused with 429.
        max_request_bytes: the largest request body accepted (``413`` beyond), read or not.
    """

    token_ttl: int = 3600
    idempotency_keep: timedelta = timedelta(hours=24)
    webhook_window: int = 300
    default_rate: float = 20.0
    default_burst: float = 40.0
    exception_budget: int = 1000
    exception_window: int = 3600
    max_request_bytes: int = _MAX_REQUEST_BYTES

    def __post_init__(self) -> None:
        if self.idempotency_keep < timedelta(hours=24):
            raise ValueError("idempotency keys are kept at least 24 hours")
        if self.exception_budget < 0 or self.exception_window < 1:
            raise ValueError("the exception budget is at least 0 in a window of at least 1 s")
        if self.max_request_bytes < 1024:
            raise ValueError("HANDOFFS_MAX_REQUEST_BYTES must be at least 1024")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        """Defaults, with ``HANDOFFS_API_EXCEPTION_BUDGET``, ``..._WINDOW`` and
        ``HANDOFFS_MAX_REQUEST_BYTES`` from the environment when set."""
        env = os.environ if env is None else env
        raw = env.get("HANDOFFS_MAX_REQUEST_BYTES", "").strip()
        try:
            max_bytes = int(raw) if raw else _MAX_REQUEST_BYTES
        except ValueError as exc:
            raise ValueError(f"HANDOFFS_MAX_REQUEST_BYTES must be a number of bytes >= 1024: {exc}") from None
        return cls(
            exception_budget=int(env.get("HANDOFFS_API_EXCEPTION_BUDGET", "1000")),
            exception_window=int(env.get("HANDOFFS_API_EXCEPTION_WINDOW", "3600")),
            max_request_bytes=max_bytes,
        )


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: its client, scopes, legal entities (None = all) and key."""

    client_id: str
    name: str
    scopes: frozenset[str]
    entities: frozenset[str] | None
    key_id: str

    def sees(self, entity: str | None) -> bool:
        """Whether this caller may know that an object of ``entity`` exists."""
        return self.entities is None or (entity is not None and entity in self.entities)

    @property
    def actor(self) -> str:
        return f"client:{self.client_id}"


@dataclass(slots=True)
class ApiContext:
    app: App
    settings: ApiSettings = field(default_factory=ApiSettings)
    now: Callable[[], float] = time.time
