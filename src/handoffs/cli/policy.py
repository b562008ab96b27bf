"""``handoffs policy check`` and ``handoffs policy whatif``: validate rule files, replay a period."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handoffs.cli.common import (
    console,
    err_console,
)
from handoffs.policies import load_book

app = typer.Typer(help="Versioned policy files: check them, and try a new version before it goes live.")

PoliciesOption = Annotated[
    Path | None,
    typer.Option(
        "--policies",
        envvar="HANDOFFS_POLICIES",
        help="Folder (or file) of the policies in force (default: none).",
        show_default=False,
    ),
]


@app.command("check")
def check(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Policy files or folders (default: policies/).")
    ] = None,
) -> None:
    """Validate policy files; print each error as FILE:LINE: message and exit 1 if there is any."""
    paths = files or [Path("policies")]
    book, errors = load_book(paths)
    for error in sorted(errors, key=lambda e: (e.file, e.line)):
        typer.echo(str(error))
    if errors:
        err_console.print(f"[red]{len(errors)} error(s)[/red]")
        raise typer.Exit(1)
    for policy in sorted(book.policies, key=lambda p: (p.name, p.version)):
        console.print(
            f"ok {policy.ref} from {policy.effective_from.isoformat()} ({policy.source})", highlight=False
        )
