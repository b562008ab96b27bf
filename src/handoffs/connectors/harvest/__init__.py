"""Harvest API v2: time entries, users and projects in; billed entries marked."""

from handoffs.connectors.harvest.client import HarvestConnector
from handoffs.connectors.harvest.config import HarvestConfig

__all__ = ["HarvestConfig", "HarvestConnector"]
