"""Secrets: read from environment variables or secret files, and kept out of every text.

A credential reference in ``handoffs.yaml`` is ``env:NAME``, ``file:/path`` (a Docker or
Kubernetes secret file, trailing newline dropped) or, for the simulated systems only,
``value:...``. Every resolved value is registered with the :data:`REDACTOR`, which
replaces it by ``***`` in log records, exception messages and stored error texts.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path

__all__ = ["REDACTOR", "Redactor", "Secret", "SecretError", "resolve_secret"]

MASK = "***"


class SecretError(ValueError):
    """A credential reference that cannot be resolved (the message never holds the value)."""


class Redactor(logging.Filter):
    """Knows every secret value in use and masks them in any text; also a logging filter."""

    def __init__(self) -> None:
        super().__init__()
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def register(self, value: str) -> None:
        if len(value) >= 4:  # masking very short strings would shred ordinary text
            with self._lock:
                self._values.add(value)

    def redact(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        return True


REDACTOR = Redactor()


class Secret:
    """A credential value that never shows itself in ``repr``, ``str`` or f-strings."""

    __slots__ = ("_value", "ref")

    def __init__(self, value: str, ref: str = "value") -> None:
        self._value = value
        self.ref = ref
        REDACTOR.register(value)

    def reveal(self) -> str:
        """The value itself: only for building the request that needs it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.ref!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def resolve_secret(ref: str, env: Mapping[str, str] | None = None) -> Secret:
    """Turn ``env:NAME``, ``file:PATH`` or ``value:TEXT`` into a :class:`Secret`."""
    env = os.environ if env is None else env
    kind, _, rest = ref.partition(":")
    if kind == "env":
        if rest not in env:
            raise SecretError(f"environment variable {rest} is not set")
        return Secret(env[rest], ref)
    if kind == "file":
        path = Path(rest)
        if not path.is_file():
            raise SecretError(f"secret file {path} does not exist")
        return Secret(path.read_text(encoding="utf-8").rstrip("\n"), ref)
    if kind == "value":
        return Secret(rest, "value:***")
    raise SecretError(f"a credential reference must start with env:, file: or value:, not {kind!r}")
