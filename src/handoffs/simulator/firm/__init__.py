"""The simulated firm: a deterministic generator of a professional-services firm's data."""

from handoffs.simulator.firm.generate import generate_firm
from handoffs.simulator.firm.model import CloseDay, ExpenseInfo, Firm, Opportunity, TimeEvent
from handoffs.simulator.firm.sizes import SIZES, FirmSize, size_named
from handoffs.simulator.firm.stats import firm_stats

__all__ = [
    "SIZES",
    "CloseDay",
    "ExpenseInfo",
    "Firm",
    "FirmSize",
    "Opportunity",
    "TimeEvent",
    "firm_stats",
    "generate_firm",
    "size_named",
]
