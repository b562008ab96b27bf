"""Routing: which ERPs receive which postings, by object and legal entity.

During an ERP migration the same postings go to the legacy ERP and the new one, each as
its own delivery (its own idempotency key and state), so one failing neither blocks nor
doubles the other::

    routes (first match wins)               no route matches
    invoice  LE-UK -> [legacy_gl, netsuite] every configured ERP (the default)
    contract       -> [netsuite]            every configured ERP that takes contracts
    journal        -> [legacy_gl, netsuite] none: journals go only where a route sends them

A route without a legal entity matches every entity.

An ERP cut-over (``handoffs erp cutover --from OLD --to NEW --at PERIOD``) then changes the
targets by the posting's period, at a period boundary::

    periods before PERIOD   as routed (both ERPs during coexistence)
    PERIOD                  OLD and NEW: NEW is the system of record, OLD a shadow still compared
    after PERIOD            NEW instead of OLD
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ONLY_WHEN_ROUTED", "ROUTED_OBJECTS", "Cutover", "Route", "Routing"]

ROUTED_OBJECTS = ("invoice", "contract", "journal")
ONLY_WHEN_ROUTED = frozenset({"journal"})  # without a route these go nowhere


@dataclass(frozen=True, slots=True)
class Route:
    """Deliver ``object_type`` (of ``legal_entity``, or of any entity when None) to ``to``."""

    object_type: str
    to: tuple[str, ...]
    legal_entity: str | None = None

    def matches(self, object_type: str, legal_entity: str | None) -> bool:
        return self.object_type == object_type and (
            self.legal_entity is None or self.legal_entity == legal_entity
        )


@dataclass(frozen=True, slots=True)
class Routing:
    """The routes in order; ``legacy`` and ``new`` name the ERPs a migration compares."""

    routes: tuple[Route, ...] = ()
    legacy: str | None = None
    new: str | None = None

    def by_entity(self, object_type: str) -> bool:
        """Whether a route for ``object_type`` depends on the legal entity (worth looking up)."""
        return any(r.object_type == object_type and r.legal_entity for r in self.routes)

    def targets(self, object_type: str, legal_entity: str | None, available: Iterable[str]) -> list[str]:
        """The ERPs that receive this posting, in a stable order."""
        for route in self.routes:
            if route.matches(object_type, legal_entity):
                return sorted(set(route.to))
        return [] if object_type in ONLY_WHEN_ROUTED else sorted(available)


@dataclass(frozen=True, slots=True)
class Cutover:
    """From ``at_period`` (``YYYY-MM``) the ``new`` ERP replaces ``old``."""

    old: str
    new: str
    at_period: str

    def apply(self, targets: list[str], period: str) -> list[str]:
        """The targets of a posting of ``period`` once this cut-over is in force."""
        if self.old not in targets or period < self.at_period:
            return targets
        kept = set(targets) | {self.new}
        if period > self.at_period:  # the shadow period is over: the old ERP gets nothing more
            kept.discard(self.old)
        return sorted(kept)
