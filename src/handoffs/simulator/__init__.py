"""Handoffs simulator layer."""
