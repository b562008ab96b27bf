"""Benchmark data and runners (``handoffs bench``, ``handoffs generate``)."""
