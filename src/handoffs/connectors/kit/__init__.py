"""The conformance kit: helpers that set a hub up against a simulated firm, and the abstract
suite every connector's tests subclass (``tests/connectors/conformance.py``)."""
