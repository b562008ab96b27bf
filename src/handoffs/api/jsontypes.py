"""Bounded text and JSON for the API's request bodies: what any database can store, of a sane size.

Every string a client sends is limited in length and may not hold a NUL character
(PostgreSQL refuses it in text). A length-limited string is also checked to be real
Unicode, so a lone surrogate such as ``"\\ud800"`` is refused as well. Free-form JSON (a
canonical record's fields) is limited in depth, keys, items and string length. All of it is
written into the OpenAPI schema, so a client, or a fuzzer, can see the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field, StrictBool, StrictFloat, StrictInt
from typing_extensions import TypeAliasType

__all__ = [
    "MAX_DEPTH",
    "NO_NUL",
    "JsonObject",
    "JsonValue",
    "Key",
    "check_depth",
    "text",
]

NO_NUL = r"^[^\x00]*$"
MAX_DEPTH = 16
MAX_KEY = 128
MAX_STRING = 4000
MAX_ITEMS = 1000
MAX_KEYS = 200


def text(max_length: int, *, min_length: int | None = None, **kw: Any) -> Any:
    """A ``Field`` for a string of at most ``max_length`` characters and no NUL."""
    return Field(min_length=min_length, max_length=max_length, pattern=NO_NUL, **kw)


def _object_schema(schema: dict[str, Any]) -> None:
    """Say "every key is bounded" as ``propertyNames``; pydantic's ``patternProperties`` would
    leave other keys unconstrained in JSON Schema's reading."""
    (value,) = schema.pop("patternProperties").values()
    schema["propertyNames"] = {"maxLength": MAX_KEY, "pattern": NO_NUL}
    schema["additionalProperties"] = value


Key = Annotated[str, Field(max_length=MAX_KEY, pattern=NO_NUL)]
if TYPE_CHECKING:  # mypy does not follow the recursive alias; pydantic does
    JsonValue = Any
    JsonObject = dict[str, Any]
else:
    JsonValue = TypeAliasType(
        "JsonValue",
        Union[  # noqa: UP007 (a recursive alias needs the Union spelled out)
            Annotated[str, text(MAX_STRING)],
            StrictInt,
            StrictFloat,
            StrictBool,
            Annotated[list["JsonValue"], Field(max_length=MAX_ITEMS)],
            Annotated[dict[Key, "JsonValue"], Field(max_length=MAX_KEYS, json_schema_extra=_object_schema)],
            None,
        ],
    )
    JsonObject = Annotated[dict[Key, JsonValue], Field(max_length=MAX_KEYS, json_schema_extra=_object_schema)]


def check_depth(value: Any, limit: int = MAX_DEPTH) -> Any:
    """``value`` unchanged, or ValueError when its lists and objects nest deeper than ``limit``."""
    level: list[Any] = [value]
    for _ in range(limit + 1):
        nested: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                nested.extend(item.values())
            elif isinstance(item, list):
                nested.extend(item)
        if not nested:
            return value
        level = nested
    raise ValueError(f"JSON nested deeper than {limit} levels")
