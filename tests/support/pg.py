"""Kept for older imports: the cluster now lives in :mod:`handoffs.bench.postgres`."""

from handoffs.bench.postgres import Cluster, find_bindir, free_port

__all__ = ["Cluster", "find_bindir", "free_port"]
