"""Settings, read and validated in one place when the application is built (never at import).

:class:`Settings` is a frozen dataclass (``dataclasses.replace`` works on it). Its
:meth:`Settings.from_env` reads each field ``name`` from ``HANDOFFS_<NAME>``, or from a
``.env`` file in the working directory when the variable is not set, through a
pydantic-settings model made from the dataclass's own fields: a field added here is read and
validated with no other change. A value that does not parse is a :class:`SettingsError`
naming the variable, raised before any work starts.
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from functools import cache
from typing import Annotated, Any

from pydantic import ValidationError, ValidationInfo, create_model, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from handoffs.engine.egress import parse_networks
from handoffs.store.db import DEFAULT_URL

__all__ = ["ENV_PREFIX", "Settings", "SettingsError"]

ENV_PREFIX = "HANDOFFS_"
_URL_FORMS = "use sqlite:///PATH or postgresql://USER@HOST:PORT/DB (--database-url or HANDOFFS_DATABASE_URL)"
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


class SettingsError(ValueError):
    """A setting that does not parse, e.g. ``HANDOFFS_BATCH_SIZE=abc``."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the hub keeps its state and how its worker behaves.

    Attributes (each read from the variable named after it):
        database_url: ``HANDOFFS_DATABASE_URL``, ``sqlite:///path`` (the embedded default) or
            ``postgresql://...``.
        erp: ``HANDOFFS_ERP``, the ERP the first flow posts to: ``file:PATH`` (a fake ERP in
            its own SQLite file, shared across processes), ``memory`` (in-process fake), or
            ``none``.
        batch_size: ``HANDOFFS_BATCH_SIZE``, work items a worker claims at a time.
        lease_seconds: ``HANDOFFS_LEASE_SECONDS``, how long a claim lasts before another
            worker may take it over.
        max_attempts: ``HANDOFFS_MAX_ATTEMPTS``, attempts before a transient failure becomes
            a dead letter.
        backoff_base: ``HANDOFFS_BACKOFF_BASE``, the first retry delay in seconds.
        webhook_allow_networks: ``HANDOFFS_WEBHOOK_ALLOW_NETWORKS``, networks (CIDR) that
            webhook subscribers may be in besides public addresses, e.g. ``127.0.0.1/32`` for
            a local demo; none by default.
        progress_seconds: ``HANDOFFS_PROGRESS_SECONDS``: when standard error is not a
            terminal, long commands write a progress line this often instead of a live bar.
        as_of: ``HANDOFFS_AS_OF``, the business date billing decides with (which periods have
            ended, the date of invoices, credit notes and approved proposals); None: the
            machine's date.
    """

    database_url: str = DEFAULT_URL
    erp: str = "file:handoffs-erp.db"
    batch_size: int = 500
    lease_seconds: float = 60.0
    max_attempts: int = 8
    backoff_base: float = 0.5
    webhook_allow_networks: tuple[str, ...] = ()
    as_of: date | None = None
    progress_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """The settings from ``env`` (default: the process environment and ``.env``).

        ``overrides`` that are not ``None`` win over the environment (command-line options).

        Raises:
            SettingsError: a value does not parse; the message names the variable.
        """
        given = {k: v for k, v in overrides.items() if v is not None}
        reader = _reader()
        try:
            if env is None:
                read = reader(**given)  # type: ignore[arg-type]  # pydantic-settings' own kwargs aside
            else:
                names = [f.name for f in fields(cls)]
                values = {n: env[k] for n in names if (k := ENV_PREFIX + n.upper()) in env}
                read = reader.model_validate(values | given)
        except ValidationError as exc:
            raise SettingsError(_describe(exc, env if env is not None else os.environ)) from None
        return cls(**{f.name: getattr(read, f.name) for f in fields(cls)})


class _Checks(BaseSettings):
    """How every setting is read (prefix, .env) and the checks beyond its type."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _listed(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and info.field_name in _TUPLES:  # "a, b" -> ("a", "b")
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("database_url", check_fields=False)
    @classmethod
    def _database(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError(f"not a database URL: {_URL_FORMS}") from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"handoffs keeps its data in SQLite or PostgreSQL, not {backend}: {_URL_FORMS}")
        return value

    @field_validator("webhook_allow_networks", check_fields=False)
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(n) for n in parse_networks(value))

    @field_validator("batch_size", "max_attempts", "lease_seconds", "progress_seconds", check_fields=False)
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError("must not be negative")
        return value


_TUPLES: set[str] = set()


@cache
def _reader() -> type[BaseSettings]:
    """A pydantic-settings model with the dataclass's fields, types and defaults."""
    hints = typing.get_type_hints(Settings)
    spec: dict[str, Any] = {}
    for f in fields(Settings):
        kind = hints[f.name]
        if typing.get_origin(kind) is tuple:
            _TUPLES.add(f.name)
            kind = Annotated[kind, NoDecode]  # comma-separated in the environment, not JSON
        spec[f.name] = (kind, f.default)
    model: type[BaseSettings] = create_model("SettingsFromEnv", __base__=_Checks, **spec)
    return model


def _describe(exc: ValidationError, env: Mapping[str, str]) -> str:
    parts = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "?"
        var = ENV_PREFIX + name.upper()
        value = env.get(var, err.get("input"))
        msg = err["msg"].removeprefix("Value error, ").removeprefix(f"{var}: ")
        shown = _PASSWORD.sub(r"\1***@", str(value))
        parts.append(f"{var}={shown} is not valid: {msg}")
    return "; ".join(parts)
