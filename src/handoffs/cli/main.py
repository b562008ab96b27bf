"""The ``handoffs`` command line."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import typer

from handoffs.cli import (
    analytics,
    apikey,
    audit,
    bench,
    billing,
    console,
    db,
    demo,
    erp,
    exceptions,
    explain,
    export,
    generate,
    init,
    load,
    period,
    policy,
    readiness,
    reconcile,
    serve,
    simulate,
    sync,
    systems,
    worker,
)
from handoffs.cli import config as config_cli
from handoffs.cli.errors import Group, run
from handoffs.telemetry.logs import configure_logging


class _Handoffs(typer.Typer):
    """The Typer app whose invocation maps expected errors to one or two lines and an exit code."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _load_dotenv()
        sys.exit(run(typer.main.get_command(self), kwargs.get("args")))


def _load_dotenv() -> None:
    """Variables from ./.env for every setting (those already set win), when the file exists."""
    path = Path.cwd() / ".env"
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def _version(value: bool) -> None:
    if value:
        try:
            number = version("handoffs")
        except PackageNotFoundError:
            from handoffs import __version__ as number
        typer.echo(f"handoffs {number}")
        raise typer.Exit()


app = _Handoffs(
    cls=Group,
    name="handoffs",
    help="Handoffs keeps a firm's systems in step, from sold deal to recognised revenue.",
    epilog="Exit codes: 0 success; 1 done, but something needs a person; 2 usage, configuration "
    "or not found; 130 interrupted. Settings: handoffs config show.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _configure(
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="HANDOFFS_DEBUG", help="Show the full traceback of any error."),
    ] = False,
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and stop."),
    ] = False,
) -> None:
    """Handoffs keeps a firm's systems in step, from sold deal to recognised revenue.

    Logs go to standard error: HANDOFFS_LOG_FORMAT=json for JSON lines, HANDOFFS_LOG_LEVEL to
    choose how much (WARNING by default). Settings come from HANDOFFS_* variables or a .env
    file (handoffs config show). Exit codes: 0 success; 1 done but something needs a person;
    2 usage, configuration or not found; 130 interrupted.
    """
    configure_logging()


app.add_typer(db.app, name="db")
app.add_typer(config_cli.app, name="config")
app.add_typer(export.app, name="export")
app.add_typer(exceptions.app, name="exceptions")
app.add_typer(generate.app, name="generate")
app.add_typer(bench.app, name="bench")
app.add_typer(simulate.app, name="simulate")
app.add_typer(explain.app, name="explain")
app.add_typer(billing.proposals_app, name="proposals")
app.add_typer(period.app, name="period")
app.command("bill")(billing.bill)
app.command("reconcile")(reconcile.reconcile)
app.command("credit-note")(billing.credit_note_)
app.add_typer(apikey.app, name="apikey")
app.add_typer(audit.app, name="audit")
app.command("serve")(serve.serve)
app.add_typer(console.app, name="console")
app.add_typer(systems.app, name="systems")
app.add_typer(sync.app, name="sync")
app.command("demo")(demo.demo)
app.command("init")(init.init)
app.command("load")(load.load)
app.command("worker")(worker.worker)
app.command("replay")(worker.replay)
app.add_typer(policy.app, name="policy")
app.add_typer(analytics.app, name="analytics")
app.add_typer(erp.app, name="erp")
app.command("readiness")(readiness.readiness)

if __name__ == "__main__":
    app()
