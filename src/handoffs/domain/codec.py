"""The canonical JSON format: every domain dataclass to and from plain JSON values.

Rules of the format (documented in docs/canonical-model.md):

* decimals (hours, rates) are JSON strings such as ``"7.50"`` (integers are accepted on
  input); floats are refused so that no amount is ever rounded by a JSON parser;
* money is ``{"amount": "1234.50", "currency": "EUR"}``;
* dates are ``YYYY-MM-DD``; timestamps are ISO 8601 with an offset (``Z`` accepted);
* unknown fields are refused, missing required fields are refused, and every failure
  names the field path.

Decoders are built once per class from its type hints, so decoding stays fast.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from handoffs.domain.errors import DomainError, ValidationError
from handoffs.domain.money import Money, check_currency, to_decimal

__all__ = ["decode", "encode", "json_schema"]

T = TypeVar("T")
Decoder = Callable[[Any, str], Any]
_DECODERS: dict[type, Callable[[Any], Any]] = {}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_PLAIN = frozenset((str, int, bool, type(None)))


def encode(value: Any) -> Any:
    """Turn a domain value into JSON-compatible data (dicts, lists, strings, ints, bools)."""
    kind = type(value)  # exact types first: this runs for every field of every record
    if kind in _PLAIN:
        return value
    if kind is Decimal:
        return str(value)
    if kind is date or kind is datetime:
        return value.isoformat()
    names = _FIELD_NAMES.get(kind)
    if names is not None:
        return {name: encode(getattr(value, name)) for name in names}
    return _encode_other(value)


def _encode_other(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
        return {name: encode(getattr(value, name)) for name in names}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(cls: type[T], data: Any) -> T:
    """Build ``cls`` from JSON data, raising ValidationError with the field path on failure."""
    decoder = _DECODERS.get(cls)
    if decoder is None:
        decoder = _DECODERS[cls] = _dataclass_decoder(cls)
    result: T = decoder(data)
    return result


def _fail(path: str, reason: str) -> ValidationError:
    return ValidationError(path, reason)


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, "must be a string")
    return value


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, "must be an integer")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, "must be true or false")
    return value


def _decimal(value: Any, path: str) -> Decimal:
    return to_decimal(value, path)


def _date(value: Any, path: str) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise _fail(path, "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(path, f"{value!r} is not a valid date") from None


def _datetime(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise _fail(path, "must be an ISO 8601 timestamp")
    try:
        result = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(path, f"{value!r} is not an ISO 8601 timestamp") from None
    if result.tzinfo is None:
        raise _fail(path, "must carry a UTC offset")
    return result


def _money(value: Any, path: str) -> Money:
    if not isinstance(value, Mapping) or set(value) != {"amount", "currency"}:
        raise _fail(path, 'must be {"amount": "...", "currency": "XXX"}')
    currency = check_currency(_str(value["currency"], f"{path}.currency"), f"{path}.currency")
    return Money(to_decimal(value["amount"], f"{path}.amount"), currency)


_SCALARS: dict[Any, Decoder] = {
    str: _str,
    int: _int,
    bool: _bool,
    Decimal: _decimal,
    date: _date,
    datetime: _datetime,
    Money: _money,
}


def _decoder_for(hint: Any) -> Decoder:
    if hint in _SCALARS:
        return _SCALARS[hint]
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is Literal:
        allowed = args

        def literal(value: Any, path: str) -> Any:
            if value not in allowed:
                raise _fail(path, f"must be one of {', '.join(map(str, allowed))}")
            return value

        return literal
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {hint}")
        sub = _decoder_for(inner[0])

        def optional(value: Any, path: str) -> Any:
            return None if value is None else sub(value, path)

        return optional
    if origin is tuple:
        item = _decoder_for(args[0])

        def sequence(value: Any, path: str) -> tuple[Any, ...]:
            if not isinstance(value, list):
                raise _fail(path, "must be a list")
            return tuple(item(v, f"{path}[{i}]") for i, v in enumerate(value))

        return sequence
    if origin in (Mapping, dict, typing.Mapping):
        val = _decoder_for(args[1])

        def mapping(value: Any, path: str) -> dict[str, Any]:
            if not isinstance(value, Mapping):
                raise _fail(path, "must be an object")
            return {_str(k, path): val(v, f"{path}.{k}") for k, v in value.items()}

        return mapping
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        cls = hint

        def nested(value: Any, path: str) -> Any:
            try:
                return decode(cls, value)
            except ValidationError as exc:
                raise exc.under(path) from None

        return nested
    raise TypeError(f"no decoder for {hint!r}")


def _dataclass_decoder(cls: type[T]) -> Callable[[Any], T]:
    hints = get_type_hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    plan = [
        (
            f.name,
            _decoder_for(hints[f.name]),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in fields
    ]
    known = {f.name for f in fields}

    def build(data: Any) -> T:
        if not isinstance(data, Mapping):
            raise _fail("", f"a {cls.__name__} must be a JSON object")
        unknown = set(data) - known
        if unknown:
            raise _fail(sorted(unknown)[0], f"unknown field for {cls.__name__}")
        kwargs: dict[str, Any] = {}
        for name, dec, required in plan:
            if name in data:
                kwargs[name] = dec(data[name], name)
            elif required:
                raise _fail(name, "is required")
        try:
            return cls(**kwargs)
        except ValidationError:
            raise
        except DomainError as exc:
            raise _fail("", str(exc)) from None

    return build


_DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"


def json_schema(cls: type) -> dict[str, Any]:
    """A JSON Schema (2020-12) for one dataclass, with nested types under ``$defs``."""
    defs: dict[str, Any] = {}
    root = _schema_for_class(cls, defs)
    schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", **root}
    if defs:
        schema["$defs"] = defs
    return schema


def _schema_for_class(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = get_type_hints(cls)
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        props[f.name] = _schema_for(hints[f.name], defs)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    return {
        "title": cls.__name__,
        "description": (cls.__doc__ or "").strip().splitlines()[0],
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def _schema_for(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    simple: dict[Any, dict[str, Any]] = {
        str: {"type": "string"},
        int: {"type": "integer"},
        bool: {"type": "boolean"},
        Decimal: {"type": ["string", "integer"], "pattern": _DECIMAL_PATTERN},
        date: {"type": "string", "format": "date"},
        datetime: {"type": "string", "format": "date-time"},
    }
    if hint in simple:
        return simple[hint]
    if hint is Money:
        defs["Money"] = {
            "type": "object",
            "properties": {
                "amount": {"type": ["string", "integer"], "pattern": _DECIMAL_PATTERN},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            },
            "required": ["amount", "currency"],
            "additionalProperties": False,
        }
        return {"$ref": "#/$defs/Money"}
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return {"anyOf": [_schema_for(inner[0], defs), {"type": "null"}]}
    if origin is tuple:
        return {"type": "array", "items": _schema_for(args[0], defs)}
    if origin in (Mapping, dict, typing.Mapping):
        return {"type": "object", "additionalProperties": _schema_for(args[1], defs)}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        name = hint.__name__
        if name not in defs:
            defs[name] = {}
            defs[name] = _schema_for_class(hint, defs)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no schema for {hint!r}")
