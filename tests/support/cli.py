"""The real ``handoffs`` command in its own process, as a user or a script runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["handoffs"]


def handoffs(
    *args: str, env: dict[str, str], cwd: Path | None = None, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m handoffs.cli.main ARGS`` (the entry point's wrapper included); never raises."""
    return subprocess.run(
        [sys.executable, "-m", "handoffs.cli.main", *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
