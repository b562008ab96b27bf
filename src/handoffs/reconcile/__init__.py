"""Handoffs reconcile layer."""
