"""NetSuite REST record API: customers, jobs, invoices and journal entries by ``eid:`` upsert."""

from handoffs.connectors.netsuite.client import NetSuiteConfig, NetSuiteErp

__all__ = ["NetSuiteConfig", "NetSuiteErp"]
