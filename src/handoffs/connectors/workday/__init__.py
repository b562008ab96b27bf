"""Workday RaaS: the worker custom report as JSON (resources, cost rates, org units, skills)."""

from handoffs.connectors.workday.client import WorkdayConfig, WorkdayConnector

__all__ = ["WorkdayConfig", "WorkdayConnector"]
