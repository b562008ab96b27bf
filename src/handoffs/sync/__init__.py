"""Pull runners: incremental pulls from connectors into the hub, with stored cursors."""

from handoffs.sync.lookups import StoreLookups
from handoffs.sync.pull import PullReport, PullRunner

__all__ = ["PullReport", "PullRunner", "StoreLookups"]
