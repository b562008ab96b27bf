"""System configuration: ``handoffs.yaml`` loading and validation."""

from handoffs.config.systems import (
    SystemConfig,
    SystemsConfig,
    SystemsConfigError,
    load_systems,
    parse_systems,
)

__all__ = ["SystemConfig", "SystemsConfig", "SystemsConfigError", "load_systems", "parse_systems"]
