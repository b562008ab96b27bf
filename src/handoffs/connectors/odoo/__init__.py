"""Odoo 17 external API over JSON-RPC: partners, projects, timesheets, customer invoices."""

from handoffs.connectors.odoo.client import OdooConfig, OdooErp
from handoffs.connectors.odoo.rpc import OdooRpc

__all__ = ["OdooConfig", "OdooErp", "OdooRpc"]
