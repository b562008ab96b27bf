"""Handoffs api layer."""
