"""Handoffs engine layer."""
