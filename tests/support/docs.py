"""Inputs of the worked examples, read from the documentation page that shows them."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs"


def doc_input(page: str, name: str) -> str:
    """The fenced block that follows ``<!-- input: NAME -->`` on ``docs/PAGE``."""
    text = (DOCS / page).read_text(encoding="utf-8")
    found = re.search(rf"<!-- input: {re.escape(name)} -->\s*```\w*\n(.*?)```", text, re.S)
    assert found, f"no input {name} in docs/{page}"
    return found.group(1)
