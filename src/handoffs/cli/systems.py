"""``handoffs systems check``: validate ``handoffs.yaml`` and ask every system if it answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from handoffs.cli.common import CliError, JsonOption, console, print_json
from handoffs.cli.conform import conform
from handoffs.config.missing import missing
from handoffs.config.systems import SystemConfig, SystemsConfigError, load_systems
from handoffs.connectors.base import Reachability
from handoffs.connectors.http import HttpPolicy
from handoffs.connectors.mapping import MappingSpecError, NoLookups
from handoffs.connectors.registry import build_erp, build_source, load_system_mapping
from handoffs.connectors.secrets import SecretError

app = typer.Typer(help="The systems in handoffs.yaml.", no_args_is_help=True)
COLUMNS = ("system", "role", "connector", "mapping", "reachable", "detail")
QUICK = HttpPolicy(connect_timeout=3, read_timeout=5, attempts=2, backoff=0.2, max_wait=2)


@app.command("check")
def check(
    file: Annotated[
        Path, typer.Option("--file", "-f", envvar="HANDOFFS_SYSTEMS", help="The systems configuration.")
    ] = Path("handoffs.yaml"),
    as_json: JsonOption = False,
) -> None:
    """Validate the file and its mappings, then make one authenticated call to each system.

    Names every environment variable, secret file, mapping file or placeholder a system still
    lacks (and does not call that system). Exits 1 when any system is not ready.
    """
    try:
        config = load_systems(file)
    except (OSError, SystemsConfigError) as exc:
        raise CliError(str(exc)) from None
    results: list[dict[str, object]] = []
    for name, cfg in config.systems.items():
        mapping = "builtin"
        lacking = missing(cfg)
        if lacking:
            results.append(
                _row(cfg, "-", Reachability(name, False, "missing: " + "; ".join(lacking)), lacking)
            )
            continue
        try:
            loaded = load_system_mapping(cfg)
            mapping = f"{len(loaded.mappings)} mappings" if loaded else "none needed"
            connector: Any = (
                build_erp(cfg, NoLookups(), policy=QUICK)
                if cfg.role == "erp"
                else build_source(cfg, policy=QUICK)
            )
            found = connector.check() if connector is not None else Reachability(name, False, "no connector")
            close = getattr(connector, "close", None)
            if close:
                close()
        except (MappingSpecError, SecretError, OSError, KeyError, ValueError) as exc:
            found = Reachability(name, False, f"configuration: {exc}")
        results.append(_row(cfg, mapping, found, []))
    if as_json:
        print_json({"file": str(file), "valid": True, "systems": results})
    else:
        table = Table(title=f"{file}: valid")
        for column in COLUMNS:
            table.add_column(column)
        for r in results:
            table.add_row(
                *(str(r[c]) if c != "reachable" else ("yes" if r[c] else "[red]no[/red]") for c in COLUMNS)
            )
        console.print(table)
        for r in results:
            for what in r["missing"]:  # type: ignore[attr-defined]
                console.print(f"{r['system']}: {what}", markup=False, highlight=False)
    if not all(r["reachable"] for r in results):
        raise typer.Exit(1)


def _row(cfg: SystemConfig, mapping: str, found: Reachability, lacking: list[str]) -> dict[str, object]:
    return {
        "system": cfg.name,
        "role": cfg.role,
        "connector": cfg.connector,
        "mapping": mapping,
        "reachable": found.ok,
        "detail": found.detail,
        "missing": lacking,
    }


app.command("conform")(conform)
