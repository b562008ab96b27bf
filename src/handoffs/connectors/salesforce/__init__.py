"""Salesforce REST: accounts, won opportunities and line items in; the project id written back."""

from handoffs.connectors.salesforce.client import SalesforceConfig, SalesforceConnector

__all__ = ["SalesforceConfig", "SalesforceConnector"]
