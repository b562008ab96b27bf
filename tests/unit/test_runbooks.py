"""Every exception category links to a runbook section that exists."""

from __future__ import annotations

import re
from pathlib import Path

from handoffs.store.repositories.exceptions import RUNBOOKS

ROOT = Path(__file__).parents[2]


def _anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", path.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_category_has_a_runbook_that_exists() -> None:
    for category, link in RUNBOOKS.items():
        path, _, anchor = link.partition("#")
        assert (ROOT / path).is_file(), (category, path)
        assert not anchor or anchor in _anchors(ROOT / path), (category, link)
