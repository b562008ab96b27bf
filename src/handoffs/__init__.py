"""Handoffs: a resource-to-revenue synchronization hub for professional-services firms."""

__version__ = "0.1.0"
