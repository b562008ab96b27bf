"""Stop-gap for a gap in the domain's currency table, until the domain fixes it.

``handoffs.domain.money.MINOR_UNITS`` omits USD (ISO 4217: 2 minor units), so no USD amount
or US legal entity can be built. The simulated firm needs both. This module adds the missing
entry, only if it is missing; delete it once the domain table lists USD.
"""

from __future__ import annotations

from handoffs.domain.money import MINOR_UNITS

__all__ = ["ensure_iso_currencies"]


def ensure_iso_currencies() -> None:
    """Make sure the currencies the simulator uses are known to the domain (idempotent)."""
    MINOR_UNITS.setdefault("USD", 2)
