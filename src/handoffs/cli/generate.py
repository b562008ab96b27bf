"""``handoffs generate``: canonical data files for trying the hub and for benchmarks."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from handoffs.bench.datagen import backfill_lines
from handoffs.cli.common import err_console

app = typer.Typer(help="Generate canonical JSON Lines files.", no_args_is_help=True)


@app.command("backfill")
def backfill(
    entries: Annotated[int, typer.Option(min=1, help="Approved billable time entries to write.")] = 10_000,
    projects: Annotated[int, typer.Option(min=1, max=999, help="Time-and-materials projects.")] = 20,
    months: Annotated[int, typer.Option(min=1, max=120, help="Months the entries spread over.")] = 1,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-01-01",
    malformed: Annotated[int, typer.Option(min=0, help="Malformed lines to mix in.")] = 0,
    seed: Annotated[int, typer.Option(help="Same seed, same file.")] = 7,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
) -> None:
    """A firm with T&M projects, two rate-card versions each (the second from the 15th), and its time."""
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"must be YYYY-MM-DD, not {start!r}", param_hint="--start") from None
    lines = backfill_lines(
        entries=entries, projects=projects, seed=seed, start=first, months=months, malformed=malformed
    )
    fh = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for line in lines:
            fh.write(line + "\n")
    finally:
        if out:
            fh.close()
    if out:
        err_console.print(f"Wrote {entries} entries for {projects} projects to {out}")


@app.command("schemas")
def schemas(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for one JSON Schema file per canonical type.")
    ] = Path("schemas"),
) -> None:
    """Write the JSON Schema of every canonical object type (generated from the model's code)."""
    import orjson

    from handoffs.domain.catalog import OBJECT_TYPES
    from handoffs.domain.codec import json_schema

    out.mkdir(parents=True, exist_ok=True)
    for name, cls in OBJECT_TYPES.items():
        schema = {"$id": f"https://handoffs.dev/schemas/{name}.json", **json_schema(cls)}
        (out / f"{name}.json").write_bytes(orjson.dumps(schema, option=orjson.OPT_INDENT_2) + b"\n")
    err_console.print(f"Wrote {len(OBJECT_TYPES)} schemas to {out}")
