"""What a system's entry still lacks before the hub can use it: the answer of ``systems check``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from handoffs.config.systems import SystemConfig
from handoffs.config.templates import PLACEHOLDER

__all__ = ["missing"]


def missing(cfg: SystemConfig, env: Mapping[str, str] | None = None) -> list[str]:
    """Each unset environment variable, absent secret or mapping file and unfilled placeholder."""
    env = os.environ if env is None else env
    found: list[str] = []
    if cfg.base_url and PLACEHOLDER in cfg.base_url:
        found.append(f"base_url: replace {PLACEHOLDER} in {cfg.base_url}")
    for key, value in (cfg.entry.get("credentials") or {}).items():
        text = str(value)
        if text.startswith("env:") and text[4:] not in env:
            found.append(f"credentials.{key}: environment variable {text[4:]} is not set")
        elif text.startswith("file:") and not Path(text[5:]).is_file():
            found.append(f"credentials.{key}: secret file {text[5:]} not found")
        elif PLACEHOLDER in text:
            found.append(f"credentials.{key}: replace {PLACEHOLDER}")
    chosen = cfg.entry.get("mapping", "builtin")
    if chosen != "builtin" and not cfg.mapping_path(Path("-")).is_file():
        found.append(f"mapping: file {cfg.mapping_path(Path('-'))} not found")
    return found
