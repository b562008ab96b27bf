"""Print the fault matrix at the end of the run, so CI's output shows every row."""

from __future__ import annotations

from typing import Any

from tests.faults.checks import MATRIX

HEADER = (
    "fault",
    "db",
    "entries",
    "lost",
    "billed once",
    "posted once",
    "journals balanced",
    "exceptions with payload",
    "result",
    "what happened",
)


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not MATRIX:
        return
    rows = [
        (
            r.fault,
            r.db,
            str(r.entries),
            str(r.lost),
            _yes(r.billed_once),
            _yes(r.posted_once),
            _yes(r.journals_balanced),
            _yes(r.exceptions_with_payload),
            "pass" if r.passed else "FAIL",
            r.detail,
        )
        for r in MATRIX
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADER)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    terminalreporter.section("fault matrix")
    terminalreporter.write_line(line(HEADER))
    terminalreporter.write_line("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        terminalreporter.write_line(line(row))
    for r in MATRIX:
        for problem in r.problems[:10]:
            terminalreporter.write_line(f"{r.fault} / {r.db}: {problem}")
