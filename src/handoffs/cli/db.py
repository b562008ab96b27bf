"""``handoffs db``: database set-up."""

from __future__ import annotations

import typer

from handoffs.cli.common import DbOption, console, open_app
from handoffs.store.db import redact_url

app = typer.Typer(help="Set up and migrate the hub's database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(database_url: DbOption = None) -> None:
    """Create or migrate the database to the newest schema (safe to run again)."""
    hub = open_app(database_url, erp="none")
    hub.upgrade()
    console.print(f"Database at {redact_url(hub.settings.database_url)} is at the newest schema.")
    hub.close()
