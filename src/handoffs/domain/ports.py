"""Ports the domain's callers inject so that decisions stay deterministic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "DeterministicIds", "IdFactory", "SystemClock"]

_NAMESPACE = uuid.UUID("6f1c5e0a-6c55-4d8e-9b0b-68616e646f66")


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdFactory(Protocol):
    def derive(self, *parts: str) -> str:
        """An id that is the same every time for the same parts (replays reproduce it)."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class DeterministicIds:
    """UUIDv5 ids derived from names, so a replay derives the same ids again."""

    def derive(self, *parts: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))
