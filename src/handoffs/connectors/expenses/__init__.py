"""The expense tool (Expensify/Emburse-like export API): reports and their line items."""

from handoffs.connectors.expenses.client import ExpenseConfig, ExpenseConnector

__all__ = ["ExpenseConfig", "ExpenseConnector"]
