"""Source versions: an older change that arrives late never overwrites a newer one."""

from __future__ import annotations

__all__ = ["is_newer"]


def _as_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def is_newer(incoming: str | None, stored: str | None) -> bool:
    """Whether ``incoming`` should replace ``stored``.

    Versions are integers (compared as numbers) or ISO 8601 timestamps / other strings
    (compared as text, which orders ISO 8601 UTC timestamps correctly). A record without a
    version is treated as newer than nothing but never as newer than a versioned record.
    """
    if stored is None:
        return True
    if incoming is None:
        return False
    a, b = _as_int(incoming), _as_int(stored)
    if a is not None and b is not None:
        return a > b
    return incoming > stored
