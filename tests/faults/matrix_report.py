"""Print the fault matrix at the end of the run, so CI's output shows every row.

A test appends its rows to ``MATRIX`` in the process that runs it. Each report carries the
rows its test added (``user_properties``), and the process that prints the summary gathers
them from the reports: the same with one process or with pytest-xdist's workers. Loaded as a
plugin by the root ``tests/conftest.py`` (``pytest_plugins``), because pytest-xdist's
controlling process collects nothing and so never reads a conftest below ``tests/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pytest

from tests.faults.checks import MATRIX, Row

_PRINTED: list[Row] = []
_KEY = "fault_matrix_row"

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


_REPORTED = [0]  # how many of MATRIX's rows earlier reports carried


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    for row in MATRIX[_REPORTED[0] :]:  # the rows added since the last report (made after each phase)
        report.user_properties.append((_KEY, asdict(row)))
    _REPORTED[0] = len(MATRIX)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _PRINTED.extend(Row(**value) for key, value in report.user_properties if key == _KEY)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _PRINTED:
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
        for r in _PRINTED
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADER)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    terminalreporter.section("fault matrix")
    terminalreporter.write_line(line(HEADER))
    terminalreporter.write_line("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        terminalreporter.write_line(line(row))
    for r in _PRINTED:
        for problem in r.problems[:10]:
            terminalreporter.write_line(f"{r.fault} / {r.db}: {problem}")
