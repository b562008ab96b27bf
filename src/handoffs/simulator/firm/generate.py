"""Generate a whole firm from a seed: one independent random stream per stage."""

from __future__ import annotations

import random
from datetime import timedelta

from handoffs.simulator.firm.deals import build_deals, window
from handoffs.simulator.firm.model import Firm
from handoffs.simulator.firm.people import build_people
from handoffs.simulator.firm.reference import build_reference
from handoffs.simulator.firm.sizes import FirmSize, size_named
from handoffs.simulator.firm.spend import build_expenses, build_receivables
from handoffs.simulator.firm.staffing import build_staffing
from handoffs.simulator.firm.timesheets import build_time

__all__ = ["generate_firm"]

AS_OF_LAG_DAYS = 10  # the firm is observed this many days after its last month ends


def generate_firm(seed: int, size: FirmSize | str = "default") -> Firm:
    """Build the firm for ``seed``; the same seed and size always give the same firm.

    Each stage draws from its own ``random.Random`` seeded with ``"{seed}:{stage}"`` so that
    changing one stage does not reshuffle the others. Nothing reads the wall clock.
    """
    chosen = size_named(size) if isinstance(size, str) else size
    firm = Firm(seed=seed, size=chosen, as_of=chosen.start)
    firm.as_of = window(firm)[1] + timedelta(days=AS_OF_LAG_DAYS)
    stages = (
        ("reference", build_reference),
        ("people", build_people),
        ("deals", build_deals),
        ("staffing", build_staffing),
        ("time", build_time),
        ("expenses", build_expenses),
        ("receivables", build_receivables),
    )
    for name, stage in stages:
        stage(firm, random.Random(f"{seed}:{name}"))
    return firm
