"""Handoffs simulator layer: a generated firm and simulated systems with fault injection.

Import ``handoffs.simulator.firm`` for the data, ``handoffs.simulator.systems`` for the
HTTP services, ``handoffs.simulator.faults`` for fault profiles.
"""

from handoffs.simulator._compat import ensure_iso_currencies

ensure_iso_currencies()  # USD is missing from the domain's ISO table; see _compat.py
