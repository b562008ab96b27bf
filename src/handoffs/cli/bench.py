"""``handoffs bench``: measured performance, never timed assertions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from handoffs.cli.common import JsonOption, check_period, console, err_console, print_json

app = typer.Typer(help="Benchmarks (figures go to docs/performance.md).", no_args_is_help=True)

Runs = Annotated[int, typer.Option(min=1, max=10, help="Repetitions (median, min and max are reported).")]
PostgresUrl = Annotated[
    str | None,
    typer.Option(
        envvar="HANDOFFS_BENCH_POSTGRES_URL",
        help="A PostgreSQL server to create benchmark databases on; a throwaway local cluster if unset.",
    ),
]


def _say(message: str) -> None:
    err_console.print(message)


def _report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    for key, value in report.items():
        console.print(f"{key}: {value}")


@contextmanager
def _postgres(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from handoffs.bench.postgres import Cluster, find_bindir

    bindir = find_bindir()
    if bindir is None:
        err_console.print("PostgreSQL is not installed: pass --postgres-url or install it.")
        raise typer.Exit(2)
    cluster = Cluster(bindir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@app.command("backfill")
def backfill(
    entries: Annotated[
        int, typer.Option(min=1000, help="Historical time entries to push through.")
    ] = 100_000,
    runs: Runs = 3,
    database: Annotated[str, typer.Option(help="sqlite or postgres.")] = "sqlite",
    workers: Annotated[int, typer.Option(min=1, max=16, help="Worker processes sharing the database.")] = 1,
    peers: Annotated[bool, typer.Option(help="Also time the plain ceiling and dlt on the same file.")] = True,
    postgres_url: PostgresUrl = None,
    as_json: JsonOption = False,
) -> None:
    """Entries per second through validate, price, invoice, journal, delivery; beside dlt and a ceiling."""
    from handoffs.bench.backfill import run_backfill

    if database not in ("sqlite", "postgres"):
        raise typer.BadParameter("use sqlite or postgres", param_hint="--database")

    def progress(n: int, result: dict[str, float]) -> None:
        _say(
            f"run {n + 1}: {result['entries_per_s']:.0f} entries/s "
            f"(load {result['load_s']:.1f} s, work {result['work_s']:.1f} s)"
        )

    place = _postgres(postgres_url) if database == "postgres" else nullcontext(None)
    with place as url:
        result = run_backfill(
            entries,
            runs,
            database=database,
            workers=workers,
            postgres_url=url,
            peers_too=peers,
            on_run=progress,
        )
    _report(result.as_dict(), as_json)


@app.command("latency")
def latency(
    rate: Annotated[int, typer.Option(min=10, max=5000, help="Approvals per second.")] = 200,
    seconds: Annotated[int, typer.Option(min=5, max=3600, help="How long to feed them.")] = 60,
    as_json: JsonOption = False,
) -> None:
    """p50 and p99 from an approval arriving to its invoice line, under a steady rate."""
    from handoffs.bench.scenarios import latency as run

    _report(run(rate, seconds, on_progress=_say), as_json)


@app.command("month-end")
def month_end(
    consultants: Annotated[int, typer.Option(min=10, help="Consultants of the firm.")] = 1000,
    runs: Runs = 3,
    as_json: JsonOption = False,
) -> None:
    """How long the backlog takes to drain when 40 % of a month arrives in 3 days."""
    from handoffs.bench.scenarios import month_end as run

    _report(run(consultants, runs, on_progress=_say), as_json)


@app.command("reconcile")
def reconcile(
    entries: Annotated[int, typer.Option(min=1000, help="Billed entries in the store.")] = 100_000,
    runs: Runs = 3,
    store: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Time an existing SQLite store (e.g. one a backfill left) instead of filling one; "
            "it is upgraded to the newest schema first.",
        ),
    ] = None,
    period: Annotated[
        str, typer.Option(callback=check_period, help="The period the controls check (YYYY-MM).")
    ] = "2026-01",
    as_json: JsonOption = False,
) -> None:
    """Seconds for the billing check, the period controls and the analytics over billed entries."""
    from handoffs.bench.scenarios import reconcile_time

    _report(reconcile_time(entries, runs, store=store, period=period, on_progress=_say), as_json)


@app.command("demo")
def demo(runs: Runs = 3, as_json: JsonOption = False) -> None:
    """Wall time of `handoffs demo` at its default size."""
    from handoffs.bench.scenarios import demo_wall_time

    _report(demo_wall_time(runs, on_progress=_say), as_json)


@app.command("all")
def all_(
    entries: Annotated[
        int, typer.Option(min=1000, help="Entries for the backfills (and reconciliation, by default).")
    ] = 100_000,
    runs: Runs = 3,
    seconds: Annotated[int, typer.Option(min=5, max=3600, help="Seconds of steady load for latency.")] = 60,
    postgres: Annotated[bool, typer.Option(help="Include the PostgreSQL runs (1 and 2 workers).")] = True,
    postgres_url: PostgresUrl = None,
    reconcile_entries: Annotated[
        int | None,
        typer.Option(min=1000, help="Entries for the reconciliation store (default: --entries)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every benchmark, then each target of the performance issue beside its measured figure."""
    from handoffs.bench.suite import run_all, table

    with _postgres(postgres_url) if postgres else nullcontext(None) as url:
        results = run_all(
            entries=entries,
            runs=runs,
            postgres_url=url,
            latency_seconds=seconds,
            reconcile_entries=reconcile_entries,
            on_progress=_say,
        )
    if as_json:
        print_json(results)
    else:
        console.print(table(results), markup=False, highlight=False)


@app.command("table")
def table_(
    results: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Output of `bench all --json`.")
    ],
) -> None:
    """Print the Markdown tables for docs/performance.md from saved results."""
    import orjson

    from handoffs.bench.suite import table

    try:
        data = orjson.loads(results.read_bytes())
    except orjson.JSONDecodeError as exc:
        err_console.print(f"{results} is not JSON from `handoffs bench all --json`: {exc}")
        raise typer.Exit(2) from None
    console.print(table(data), markup=False, highlight=False, soft_wrap=True)
