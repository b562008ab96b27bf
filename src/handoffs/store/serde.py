"""Canonical JSON text for stored documents and messages (sorted keys, exact decimals)."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson

from handoffs.domain.codec import decode, encode
from handoffs.domain.messages import MESSAGE_TYPES, Message

__all__ = ["from_doc", "message_from_json", "message_to_json", "to_doc"]

T = TypeVar("T")


def to_doc(obj: Any) -> str:
    return orjson.dumps(encode(obj), option=orjson.OPT_SORT_KEYS).decode()


def from_doc(cls: type[T], doc: str) -> T:
    return decode(cls, orjson.loads(doc))


def message_to_json(message: Message) -> str:
    return to_doc(message)


def message_from_json(type_name: str, payload: str) -> Message:
    return from_doc(MESSAGE_TYPES[type_name], payload)
