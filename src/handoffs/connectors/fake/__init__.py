"""Fake systems behind the connector ports, for tests and the embedded demo."""
