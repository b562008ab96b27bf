"""Tryton (trytond 8.x) over its JSON-RPC: customer invoices and credit notes, read back."""

from handoffs.connectors.tryton.client import TrytonConfig, TrytonErp
from handoffs.connectors.tryton.rpc import TrytonRpc

__all__ = ["TrytonConfig", "TrytonErp", "TrytonRpc"]
