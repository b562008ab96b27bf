"""Handoffs flows layer."""
