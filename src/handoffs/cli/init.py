"""``handoffs init [SYSTEM ...]``: write a commented ``handoffs.yaml`` to fill in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from handoffs.cli.common import JsonOption, console, err_console, print_json

__all__ = ["init"]


def _pairs(names: list[str], known: dict[str, Any]) -> list[tuple[str, str]]:
    from handoffs.config.templates import TEMPLATES

    pairs = []
    order = list(TEMPLATES)  # simulated: in the templates' order, sources before ERPs
    for item in names or sorted(known, key=lambda n: order.index(n) if n in order else len(order)):
        name, _, kind = item.partition("=")
        kind = kind or name
        if kind not in TEMPLATES:
            raise typer.BadParameter(f"{kind!r}: choose from {', '.join(TEMPLATES)} (or NAME=TYPE)")
        pairs.append((name, kind))
    return pairs


def _simulated(state: Path) -> dict[str, Any]:
    """What `simulate up` recorded: each system's address and its made-up plain credentials."""
    if not state.is_file():
        err_console.print(
            f"[red]{state} not found:[/red] start the systems first with `handoffs simulate up`."
        )
        raise typer.Exit(2)
    record = json.loads(state.read_text(encoding="utf-8"))
    known: dict[str, Any] = {}
    for name, where in record["systems"].items():
        entry: dict[str, Any] = {"credentials": record.get("credentials", {}).get(name, {})}
        if where.get("kind") == "http":
            entry["url"] = where["url"]
        else:
            entry["folder"] = str(Path(where["inbox"]).parent)
        known[name] = entry
    return known


def init(
    systems: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SYSTEM",
            help="Connector types to configure (salesforce harvest workday expenses netsuite odoo tryton "
            "csv_time legacy_gl), or NAME=TYPE for a second system of one type.",
            show_default=False,
        ),
    ] = None,
    file: Annotated[Path, typer.Option("--file", "-f", help="Where to write the configuration.")] = Path(
        "handoffs.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")] = False,
    simulated: Annotated[
        Path | None,
        typer.Option(
            "--simulated",
            help="Fill addresses and plain values from the state file `handoffs simulate up` wrote "
            "(.handoffs-sim.json); every system it runs when none are named.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a commented handoffs.yaml for the named systems, secrets as env: references.

    Then fill in what it marks CHANGE-ME, set the environment variables it names, and run
    `handoffs systems check`, which names anything still missing.
    """
    from handoffs.config.systems import parse_systems
    from handoffs.config.templates import TEMPLATES, is_secret, render, secret_env

    known = _simulated(simulated) if simulated else {}
    if not systems and not known:
        err_console.print(
            "[red]Name the systems to configure[/red], e.g. handoffs init salesforce harvest netsuite"
        )
        raise typer.Exit(2)
    if file.exists() and not force:
        err_console.print(f"[red]{file} exists;[/red] pass --force to overwrite it.")
        raise typer.Exit(2)
    pairs = _pairs(systems or [], known)
    text = render(pairs, known)
    parse_systems(text, str(file), file.parent)  # what init writes is always a valid file
    file.write_text(text, encoding="utf-8")
    env = [secret_env(n, k) for n, kind in pairs for k in TEMPLATES[kind].credentials if is_secret(kind, k)]
    if as_json:
        print_json({"file": str(file), "systems": [n for n, _ in pairs], "environment": env})
        return
    console.print(f"Wrote {file} with {len(pairs)} systems: {', '.join(n for n, _ in pairs)}.")
    if env:
        console.print("Set these environment variables (or change the references to file:PATH):")
        for name in env:
            console.print(f"  {name}", markup=False, highlight=False)
    console.print(f"Then check what is still missing: handoffs systems check --file {file}")
