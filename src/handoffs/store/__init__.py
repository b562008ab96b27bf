"""Handoffs store layer."""
