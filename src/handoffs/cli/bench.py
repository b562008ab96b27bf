"""``handoffs bench``: measured performance, never timed assertions."""

from __future__ import annotations

from typing import Annotated

import typer

from handoffs.cli.common import JsonOption, console, err_console, print_json

app = typer.Typer(help="Benchmarks (figures go to docs/performance.md).", no_args_is_help=True)


@app.command("backfill")
def backfill(
    entries: Annotated[
        int, typer.Option(min=1000, help="Historical time entries to push through.")
    ] = 100_000,
    runs: Annotated[
        int, typer.Option(min=1, max=10, help="Repetitions (median, min and max are reported).")
    ] = 3,
    as_json: JsonOption = False,
) -> None:
    """Entries per second through validate, price, invoice, journal, delivery; and a plain ceiling."""
    from handoffs.bench.backfill import run_backfill

    def progress(n: int, result: dict[str, float]) -> None:
        err_console.print(
            f"run {n + 1}: {result['entries_per_s']:.0f} entries/s "
            f"(load {result['load_s']:.1f} s, work {result['work_s']:.1f} s)"
        )

    report = run_backfill(entries, runs, on_run=progress).as_dict()
    if as_json:
        print_json(report)
        return
    for key, value in report.items():
        console.print(f"{key}: {value}")
