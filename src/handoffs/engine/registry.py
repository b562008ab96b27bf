"""Handlers and the subscriptions they imply: which consumers receive which message types."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from handoffs.domain.messages import Message

__all__ = ["Handler", "Registry"]

LocalFn = Callable[[list[Any], Any, Any], None]
CallFn = Callable[[Any, Callable[[], Any], Any], Any]
RecordFn = Callable[[Any, Any, Any, Any], None]
DeadFn = Callable[[Any, str, Any, Any], None]


@dataclass(frozen=True, slots=True)
class Handler:
    """One consumer of one message type.

    A *local* handler (``handle``) changes only the hub's own state and runs inside the
    worker's transaction, a whole batch at a time. An *outbound* handler calls another
    system: ``call`` runs outside any transaction (reading through short units of work),
    then ``record`` stores the outcome in the transaction that also marks the message done.
    ``on_dead`` lets a flow record its side of a dead letter (a failed delivery).
    """

    consumer: str
    message_type: type[Message]
    handle: LocalFn | None = None
    call: CallFn | None = None
    record: RecordFn | None = None
    on_dead: DeadFn | None = None

    def __post_init__(self) -> None:
        if (self.handle is None) == (self.call is None or self.record is None):
            raise ValueError(f"{self.consumer}: give either handle, or call and record")

    @property
    def outbound(self) -> bool:
        return self.call is not None


class Registry:
    def __init__(self, handlers: Sequence[Handler]) -> None:
        self._by_consumer: dict[str, Handler] = {}
        self.subscriptions: dict[str, list[str]] = {}
        for h in handlers:
            if h.consumer in self._by_consumer:
                raise ValueError(f"consumer {h.consumer} registered twice")
            self._by_consumer[h.consumer] = h
            self.subscriptions.setdefault(h.message_type.__name__, []).append(h.consumer)

    def handler(self, consumer: str) -> Handler:
        return self._by_consumer[consumer]

    @property
    def consumers(self) -> list[str]:
        return list(self._by_consumer)
