"""Handoffs policies layer."""
