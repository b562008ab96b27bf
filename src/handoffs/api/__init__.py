"""The governed HTTP API: system, process and experience layers, and events out."""

from handoffs.api.app import create_app
from handoffs.api.context import ApiSettings

__all__ = ["ApiSettings", "create_app"]
