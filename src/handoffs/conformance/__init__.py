"""The conformance kit: checks any configured system, real or simulated, against what the hub
relies on (``handoffs systems conform SYSTEM``).

Read-only by default. Checks that write to the system (``writes=True``) run only when asked:
an ERP posting a test invoice twice under one idempotency key, a write-back target accepting
one write twice. Connector test suites run the same checks against the simulated systems.
"""

from handoffs.conformance.checks import Check, run_checks, secret_values

__all__ = ["Check", "run_checks", "secret_values"]
