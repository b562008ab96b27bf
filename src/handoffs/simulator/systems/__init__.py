"""Simulated systems: each a real HTTP service (or a folder) with its own state and faults."""

from handoffs.simulator.systems.common import NativeJSON, SimSystem
from handoffs.simulator.systems.expenses import ExpenseSim
from handoffs.simulator.systems.harvest import HarvestSim
from handoffs.simulator.systems.legacy_gl import LegacyGl
from handoffs.simulator.systems.netsuite import NetSuiteSim
from handoffs.simulator.systems.odoo import OdooSim
from handoffs.simulator.systems.salesforce import SalesforceSim
from handoffs.simulator.systems.workday import WorkdaySim

__all__ = [
    "ExpenseSim",
    "HarvestSim",
    "LegacyGl",
    "NativeJSON",
    "NetSuiteSim",
    "OdooSim",
    "SalesforceSim",
    "SimSystem",
    "WorkdaySim",
]
