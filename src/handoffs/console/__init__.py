"""Handoffs console layer."""
