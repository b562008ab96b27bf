"""What a connector is: a small class behind a Protocol, given an HTTP client and a config.

A **source** connector lists its resources and yields pages of native records changed at
or after a moment (``>=``: the pull runner keeps an overlap window and drops by key what it
has already seen). A **sink** connector implements a port of the domain, such as
:class:`~handoffs.domain.ports.ErpPort`, and pushes with an idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from handoffs.engine.errors import HandoffsFailure

__all__ = ["Reachability", "SourceConnector", "reach"]


@dataclass(frozen=True, slots=True)
class Reachability:
    """The answer of ``handoffs systems check`` for one system."""

    system: str
    ok: bool
    detail: str


class SourceConnector(Protocol):
    """A system the hub pulls records from."""

    system: str

    def resources(self) -> tuple[str, ...]:
        """The resources this connector can pull, in dependency order."""
        ...

    def fetch(self, resource: str, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        """Pages of records of ``resource`` updated at or after ``since`` (all when None)."""
        ...

    def check(self) -> Reachability:
        """One cheap authenticated call, to tell whether the system answers."""
        ...


def reach(system: str, probe: Callable[[], str]) -> Reachability:
    """What ``handoffs systems check`` says of a system: ``probe`` logs in and proves the setup,
    returning what it found; a failure on the way is the answer instead."""
    try:
        return Reachability(system, True, probe())
    except HandoffsFailure as exc:
        return Reachability(system, False, str(exc))
