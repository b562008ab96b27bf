"""``handoffs worker`` and ``handoffs replay``."""

from __future__ import annotations

import os
import signal
import socket
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

from handoffs.cli.common import (
    ByOption,
    CliError,
    DbOption,
    JsonOption,
    cli_actor,
    console,
    err_console,
    open_app,
    print_json,
    require_schema,
)
from handoffs.cli.dates import AsOfOption, as_of_date
from handoffs.cli.errors import EXIT_ATTENTION, EXIT_INTERRUPTED
from handoffs.cli.progress import progress as progress_display
from handoffs.engine.replay import replay as replay_messages

if TYPE_CHECKING:
    from handoffs.bootstrap import App
    from handoffs.sync.scheduler import PullScheduler


def worker(
    database_url: DbOption = None,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Stop when no work is left.")] = False,
    batch_size: Annotated[int | None, typer.Option(min=1, max=10_000, help="Work items per claim.")] = None,
    lease_seconds: Annotated[float | None, typer.Option(min=0.5, help="Seconds a claim lasts.")] = None,
    metrics_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Serve Prometheus metrics on 127.0.0.1:PORT.")
    ] = None,
    systems: Annotated[
        Path | None,
        typer.Option(
            envvar="HANDOFFS_SYSTEMS",
            exists=True,
            dir_okay=False,
            help="The systems file (handoffs.yaml): post to the ERPs it names, routed as it says, "
            "instead of HANDOFFS_ERP.",
        ),
    ] = None,
    pulls: Annotated[
        bool | None,
        typer.Option(
            "--pulls/--no-pulls",
            help="Pull the systems file's scheduled systems when due, between batches "
            "(default: on, except with --until-idle).",
        ),
    ] = None,
    pull_lease_seconds: Annotated[
        float,
        typer.Option(
            min=1.0, help="Seconds a silent puller keeps a system before another worker takes it over."
        ),
    ] = 60.0,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Process queued work: price, invoice, deliver; run scheduled pulls when due.

    Stops on SIGTERM or Ctrl-C after the batch in hand (a pull stops at its next page,
    its cursor unmoved). Systems with a ``schedule`` in the systems file are pulled by one
    worker at a time (a lease in the database); each pull is recorded as a sync run
    (``sync_runs``: started, finished, counts, error). Approved time of a period that has
    ended by the business date (``--as-of``, else today) is billed as it arrives; time of a
    running period waits for ``handoffs bill``. Exits 1 when this run dead-lettered work (see
    handoffs exceptions list), 130 after Ctrl-C.
    """
    hub = open_app(
        database_url,
        systems=systems,
        batch_size=batch_size,
        lease_seconds=lease_seconds,
        as_of=as_of_date(as_of),
    )
    require_schema(hub)
    scheduler = _scheduler(hub, pulls, until_idle, pull_lease_seconds)
    stopping = False
    interrupted = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping, interrupted
        stopping = True
        interrupted = interrupted or signum == signal.SIGINT

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1", registry=hub.metrics.registry)
    w = hub.worker()
    with progress_display(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
    ) as progress:
        task = progress.add_task("working", total=None)

        def on_batch(stats: object, outstanding: int) -> None:
            s = w.stats
            progress.update(
                task,
                description=f"processed {s.processed}, retried {s.retried}, "
                f"dead {s.dead}, queued {outstanding}",
            )

        if scheduler is None:
            stats = w.run(until_idle=until_idle, should_stop=lambda: stopping, on_batch=on_batch)
        else:
            from handoffs.sync.scheduler import work_and_pull

            progress.update(task, description=f"pulling on schedule: {', '.join(scheduler.schedules)}")
            stats = work_and_pull(
                w, scheduler, until_idle=until_idle, should_stop=lambda: stopping, on_batch=on_batch
            )
    hub.tracing.shutdown()
    hub.close()
    pulled = scheduler.pulled if scheduler is not None else {}
    if as_json:
        print_json({**stats.as_dict(), **({"pulls": pulled} if scheduler is not None else {})})
    else:
        runs = ", ".join(f"{system} {n}x" for system, n in sorted(pulled.items()))
        console.print(
            f"Worker {w.owner}: processed {stats.processed}, retried {stats.retried}, "
            f"dead-lettered {stats.dead}, in {stats.batches} batches"
            + (f"; pulled {runs or 'nothing (none due)'}." if scheduler is not None else ".")
        )
    if interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    if stats.dead:
        raise typer.Exit(EXIT_ATTENTION)


def _scheduler(hub: App, pulls: bool | None, until_idle: bool, lease: float) -> PullScheduler | None:
    """The pull scheduler this worker runs, or None (no systems file, no schedules, --no-pulls)."""
    if pulls and hub.systems is None:
        hub.close()
        err_console.print("[red]--pulls needs the systems file:[/red] --systems FILE or HANDOFFS_SYSTEMS.")
        raise typer.Exit(2)
    if pulls is False or (pulls is None and until_idle) or hub.systems is None:
        return None
    from handoffs.sync.scheduler import PullScheduler, schedules_of

    schedules = schedules_of(hub.systems)
    if not schedules:
        if pulls:
            err_console.print(
                f"[yellow]No system in {hub.systems.source} has a schedule: nothing to pull.[/yellow]"
            )
        return None
    owner = f"{socket.gethostname()}:{os.getpid()}"
    return PullScheduler(hub, schedules, owner, lease_seconds=lease)


def replay(
    database_url: DbOption = None,
    since: Annotated[
        datetime | None, typer.Option(help="Messages that occurred at or after (ISO 8601, UTC).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(help="Messages that occurred before (ISO 8601, UTC).")
    ] = None,
    correlation_id: Annotated[str | None, typer.Option(help="Only messages of this business flow.")] = None,
    message_type: Annotated[
        list[str] | None, typer.Option("--type", help="Only these message types.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what the replay would invoice and post.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Replay without asking after the preview.")] = False,
    by: ByOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue stored messages to run through their consumers again (idempotent by business key).

    First shows what the replay would invoice, price and post, worked out in a transaction
    that is rolled back (no other system is called); then asks (``--yes`` to skip).
    """
    from handoffs.cli.exceptions import confirmed, print_preview
    from handoffs.engine.replay import select_messages
    from handoffs.flows.replay_preview import preview_messages

    if since is None and until is None and correlation_id is None:
        raise CliError("Say what to replay: --since/--until and/or --correlation-id.")
    types = set(message_type) if message_type else None
    hub = open_app(database_url)  # the ERPs as configured, so the preview names the postings
    try:
        require_schema(hub)
        with hub.uow() as uow:
            selected = select_messages(uow, _utc(since), _utc(until), correlation_id, types)
            preview = preview_messages(
                uow, selected, hub.registry.subscriptions, registry=hub.registry, ports=hub.ports
            )
        if dry_run:
            if as_json:
                print_json(preview.as_dict())
            else:
                print_preview(preview)
            return
        if not as_json:
            print_preview(preview)
        if not yes and not confirmed("Queue this replay?"):
            err_console.print("Nothing replayed.")
            raise typer.Exit(1)
        queued = replay_messages(
            hub.uow,
            since=_utc(since),
            until=_utc(until),
            correlation_id=correlation_id,
            message_types=types,
            actor=cli_actor(by),
        )
    finally:
        hub.close()
    if as_json:
        print_json({"queued": queued, "preview": preview.as_dict()})
    else:
        console.print(f"Queued {queued} replay run(s). Run: handoffs worker --until-idle")


def _utc(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
