"""Ports the domain's callers inject so that decisions stay deterministic, and the ports of the
systems the hub writes to (an ERP, a write-back target), which connectors implement and
flows call, so that neither needs the other."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from handoffs.domain.billing import Invoice

__all__ = [
    "Clock",
    "DeterministicIds",
    "ErpPort",
    "ExternalRef",
    "Guard",
    "IdFactory",
    "SystemClock",
    "WriteBackPort",
]

T = TypeVar("T")

_NAMESPACE = uuid.UUID("6f1c5e0a-6c55-4d8e-9b0b-68616e646f66")
_NAMESPACE_BYTES = _NAMESPACE.bytes


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
        # uuid.uuid5 spelled out (SHA-1 of namespace + name, version 5, RFC 4122 variant):
        # the same text, at a third of the cost of building a UUID object per id.
        name = _NAMESPACE_BYTES + "\x1f".join(parts).encode()
        digest = bytearray(hashlib.sha1(name, usedforsecurity=False).digest()[:16])
        digest[6] = (digest[6] & 0x0F) | 0x50
        digest[8] = (digest[8] & 0x3F) | 0x80
        h = digest.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class ExternalRef:
    """The id a system gave the record we sent it."""

    system: str
    external_id: str


class ErpPort(Protocol):
    """An ERP that accepts invoices. Implementations raise engine TransientError/TerminalError."""

    system: str

    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef: ...


class Guard(Protocol):
    """Runs one call to a system under its shared rate limit and circuit breaker."""

    def call(self, system: str, fn: Callable[[], T]) -> T: ...


class WriteBackPort(Protocol):
    """A source system the hub tells what became of its records, where ``handoffs.yaml``
    enables it. Implementations raise engine TransientError/TerminalError."""

    system: str

    def write_back_kinds(self) -> frozenset[str]:
        """The write-backs enabled for this system (``project_id``, ``invoiced``)."""
        ...

    def write_back(self, kind: str, record_id: str, value: str, idempotency_key: str) -> ExternalRef:
        """Write ``value`` to the record; repeating it with the same key changes nothing more."""
        ...
