"""The ``handoffs`` command line."""

from __future__ import annotations

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
from handoffs.telemetry.logs import configure_logging

app = typer.Typer(
    name="handoffs",
    help="Handoffs keeps a firm's systems in step, from sold deal to recognised revenue.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _configure() -> None:
    """Handoffs keeps a firm's systems in step, from sold deal to recognised revenue.

    Logs go to standard error: HANDOFFS_LOG_FORMAT=json for JSON lines, HANDOFFS_LOG_LEVEL to
    choose how much (WARNING by default).
    """
    configure_logging()


app.add_typer(db.app, name="db")
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
