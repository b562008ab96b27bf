"""Handoffs simulator layer: a generated firm and simulated systems with fault injection.

Import ``handoffs.simulator.firm`` for the data, ``handoffs.simulator.systems`` for the
HTTP services, ``handoffs.simulator.faults`` for fault profiles.
"""
