"""``handoffs simulate``: generate a firm as files, or run its simulated systems locally."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from handoffs.cli.common import ByOption, DbOption
from handoffs.simulator.faults import PROFILES
from handoffs.simulator.firm import SIZES, firm_stats, generate_firm, size_named
from handoffs.simulator.firm.files import write_firm

__all__ = ["app"]

app = typer.Typer(help="Simulate a professional-services firm and the systems it runs.", no_args_is_help=True)
STATE_FILE = Path(".handoffs-sim.json")

Seed = Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same firm.")]
Size = Annotated[str, typer.Option("--size", help=f"Firm size: {', '.join(SIZES)}.")]
Months = Annotated[int | None, typer.Option("--months", help="Months of activity (overrides the size).")]
Consultants = Annotated[int | None, typer.Option("--consultants", help="Consultants (overrides the size).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
StatePath = Annotated[Path, typer.Option("--state", help="Where `up` records the running systems.")]


def _size(size: str) -> str:
    if size not in SIZES:
        raise typer.BadParameter(f"choose one of {', '.join(SIZES)}", param_hint="--size")
    return size


@app.command()
def firm(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the firm's files into.")],
    seed: Seed = 7,
    size: Size = "default",
    months: Months = None,
    consultants: Consultants = None,
    as_json: AsJson = False,
) -> None:
    """Write a generated firm: firm.jsonl, native seeds per system, timeline and stats.json."""
    chosen = size_named(_size(size), months=months, consultants=consultants)
    generated = generate_firm(seed, chosen)
    paths = write_firm(generated, out)
    stats = firm_stats(generated)
    if as_json:
        typer.echo(json.dumps(stats, indent=2, sort_keys=True))
        return
    console = Console()
    table = Table(title=f"Firm seed {seed}, size {chosen.name}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    time_stats = stats["time"]
    rows = [
        ("time entries", str(time_stats["entries"])),
        ("utilisation", f"{time_stats['utilisation']:.1%}"),
        ("month-end submission share (min)", f"{time_stats['month_end_submission_share_min']:.1%}"),
        ("rejection rate", f"{time_stats['rejection_rate']:.1%}"),
        ("expenses", str(stats["expenses"]["count"])),
        ("expense currencies", ", ".join(stats["expenses"]["currency_mix"])),
        ("files", str(len(paths))),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    console.print(f"written to {out}")


@app.command()
def up(
    seed: Seed = 7,
    size: Size = "small",
    faults: Annotated[str, typer.Option("--faults", help=f"Fault profile: {', '.join(PROFILES)}.")] = "none",
    consultants: Consultants = None,
    workdir: Annotated[Path | None, typer.Option("--workdir", help="Folder for the file-drop ERP.")] = None,
    state: StatePath = STATE_FILE,
    as_json: AsJson = False,
) -> None:
    """Start every simulated system for a generated firm and wait until `down` or Ctrl-C."""
    from handoffs.simulator.systems.fleet import start_fleet

    if faults not in PROFILES:
        raise typer.BadParameter(f"choose one of {', '.join(PROFILES)}", param_hint="--faults")
    folder = workdir or Path(tempfile.mkdtemp(prefix="handoffs-sim-"))
    chosen = size_named(_size(size), consultants=consultants)
    fleet = start_fleet(generate_firm(seed, chosen), folder, faults=faults)
    endpoints = fleet.endpoints()
    record = {
        "pid": os.getpid(),
        "seed": seed,
        "size": size,
        "consultants": chosen.consultants,
        "faults": faults,
        "systems": endpoints,
        "credentials": fleet.extra["credentials"],
    }
    state.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    env_file = state.with_suffix(".env")  # the secrets `handoffs init --simulated` refers to
    env_file.write_text(_env_lines(record["credentials"]), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps({"systems": endpoints, "state_file": str(state)}, indent=2, sort_keys=True))
    else:
        table = Table(title=f"Simulated systems (seed {seed}, size {size}, faults {faults})")
        table.add_column("system")
        table.add_column("listens at")
        for name, where in endpoints.items():
            table.add_row(name, where.get("url") or f"inbox {where['inbox']}")
        Console().print(table)
        Console().print(f"credentials and endpoints: {state} - stop with `handoffs simulate down`")
        Console().print(f"a handoffs.yaml for them: handoffs init --simulated {state}; then: . ./{env_file}")
    stop = next(iter(fleet.systems.values())).stop_requested
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not any(s.stop_requested.wait(0.2) for s in fleet.systems.values()):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()
        state.unlink(missing_ok=True)
        env_file.unlink(missing_ok=True)


def _env_lines(credentials: dict[str, dict[str, str]]) -> str:
    """``export`` lines for the simulated systems' made-up secrets, named as `init` names them."""
    from handoffs.config.templates import TEMPLATES, is_secret, secret_env

    lines = ["# The simulated systems' made-up secrets (nothing real): . ./this-file"]
    for system, values in credentials.items():
        kind = system if system in TEMPLATES else ""
        for key, value in values.items():
            if kind and is_secret(kind, key):
                lines.append(f"export {secret_env(system, key)}='{value}'")
    return "\n".join(lines) + "\n"


@app.command()
def onboard(
    state: StatePath = STATE_FILE,
    database_url: DbOption = None,
    by: ByOption = None,
    as_json: AsJson = False,
) -> None:
    """Load the running simulated firm's master data and identity links into the hub, once.

    What a firm does when it adopts Handoffs: import its legal entities, tax codes, GL
    accounts, customers, contracts and projects, and record which user in each system is
    which person. Operational records then come only through `handoffs sync`.
    """
    from handoffs.cli.common import audit, opened
    from handoffs.sync.onboarding import link_identities, load_master_data

    if not state.exists():
        typer.echo(f"{state} not found: start the systems first with `handoffs simulate up`", err=True)
        raise typer.Exit(2)
    record = json.loads(state.read_text(encoding="utf-8"))
    chosen = size_named(_size(str(record["size"])), consultants=record.get("consultants"))
    firm = generate_firm(int(record["seed"]), chosen)
    with opened(database_url) as hub:
        loaded = load_master_data(hub, firm)
        links = link_identities(hub, firm)
        with hub.uow() as uow:
            after = {"seed": record["seed"], "size": record["size"], "records": loaded.lines, "links": links}
            audit(uow, "cli.simulate.onboard", "master-data", by=by, after=after)
            uow.commit()
    if as_json:
        typer.echo(
            json.dumps({"records": loaded.as_dict(), "identity_links": links}, indent=2, sort_keys=True)
        )
    else:
        Console().print(f"Loaded {loaded.lines:,} master-data records and {links:,} identity links.")
    if loaded.failed:
        raise typer.Exit(1)


@app.command()
def down(state: StatePath = STATE_FILE) -> None:
    """Stop the systems that `up` started (found through its state file)."""
    if not state.exists():
        typer.echo(f"nothing running: {state} not found")
        raise typer.Exit(0)
    record = json.loads(state.read_text(encoding="utf-8"))
    for where in record["systems"].values():
        if where.get("kind") != "http":
            continue
        try:
            httpx.post(f"{where['url']}/_sim/shutdown", timeout=2)
        except httpx.HTTPError:
            continue  # one answer is enough: `up` stops every system it started
        for _ in range(100):
            if not state.exists():
                break
            time.sleep(0.1)
        typer.echo(f"stopped the simulated systems of process {record['pid']}")
        return
    state.unlink(missing_ok=True)
    state.with_suffix(".env").unlink(missing_ok=True)
    typer.echo("no system answered; removed the stale state file")
