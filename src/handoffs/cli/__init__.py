"""Handoffs cli layer."""
