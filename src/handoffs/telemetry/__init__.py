"""Handoffs telemetry layer."""
