"""Handoffs connectors layer."""
