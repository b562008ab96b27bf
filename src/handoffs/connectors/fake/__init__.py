"""Handoffs connectors/fake layer."""
