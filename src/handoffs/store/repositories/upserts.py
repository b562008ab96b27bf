"""The rule every inbound write follows: insert, update if newer, or leave alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from handoffs.domain.catalog import CanonicalRecord
from handoffs.domain.versions import is_newer

__all__ = ["Outcome", "UpsertResult", "decide", "source_version"]

Outcome = Literal["inserted", "updated", "unchanged", "stale", "locked"]


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What happened to one record, and its hub version afterwards."""

    record: CanonicalRecord
    outcome: Outcome
    version: int
    previous: Any = None  # the stored object before an update


def decide(stored_doc: str | None, stored_version: str | None, doc: str, record: CanonicalRecord) -> Outcome:
    """Inserted when new, unchanged when identical, stale when older than what is stored.

    A hub-versioned write (an API client's) carries no version of its own: it updates.
    """
    if stored_doc is None:
        return "inserted"
    if stored_doc == doc:
        return "unchanged"
    if record.hub_versioned:
        return "updated"
    if stored_version is None and record.source_version is None:
        return "updated"
    return "updated" if is_newer(record.source_version, stored_version) else "stale"


def source_version(record: CanonicalRecord, stored_version: str | None) -> str | None:
    """The source version to keep: a hub-versioned write keeps the stored one."""
    return stored_version if record.hub_versioned else record.source_version
