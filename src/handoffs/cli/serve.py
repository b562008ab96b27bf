"""``handoffs serve``: the governed HTTP API, its docs and the web console, on uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handoffs.cli.common import DbOption, console, open_app


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    database_url: DbOption = None,
    upgrade: Annotated[bool, typer.Option(help="Bring the database schema up to date first.")] = True,
    systems: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="The systems file (handoffs.yaml) the hub syncs with: the console shows each "
            "system's rate limit and how much of it is in use, and can pull a system now.",
        ),
    ] = None,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log one line per request (client, method, path, status) on standard error.",
        ),
    ] = True,
) -> None:
    """Serve the API (OpenAPI at /openapi.json, docs at /docs) and the web console (/console).

    Create API keys with: handoffs apikey create; console users with: handoffs console adduser.
    """
    import uvicorn

    from handoffs.api import ApiSettings, create_app

    hub = open_app(database_url, systems=systems)  # its pull connectors serve "sync now"
    if upgrade:
        hub.upgrade()
    console.print(
        f"Handoffs API on http://{host}:{port}  (docs: http://{host}:{port}/docs, "
        f"console: http://{host}:{port}/console)"
    )
    app = create_app(hub, ApiSettings.from_env())
    if systems is not None:
        from handoffs.config.systems import load_systems
        from handoffs.connectors.registry import rate_limits

        app.state.console.limits = rate_limits(load_systems(systems))
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log)
    finally:
        hub.close()
