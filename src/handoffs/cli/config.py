"""``handoffs config show``: the settings in force, validated, with secrets masked."""

from __future__ import annotations

import os
import re
from dataclasses import fields
from pathlib import Path

import typer
from rich.table import Table

from handoffs.cli.common import JsonOption, console, print_json

__all__ = ["app", "masked", "show"]

app = typer.Typer(help="The hub's settings (HANDOFFS_* variables and .env).", no_args_is_help=True)

_SECRET = re.compile(r"SECRET|KEY|TOKEN|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def masked(name: str, value: str) -> str:
    """The value safe to print: URL passwords hidden, secrets (keys, tokens...) replaced."""
    if "://" in value and "@" in value:
        from sqlalchemy.engine import make_url

        try:
            return make_url(value).render_as_string(hide_password=True)
        except Exception:  # not a database URL: hide whatever sits between ':' and '@'
            return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", value)
    if _SECRET.search(name) and not name.upper().endswith("_FILE") and value:
        return "***"
    return value


def _dotenv_names() -> set[str]:
    path = Path.cwd() / ".env"
    if not path.is_file():
        return set()
    from dotenv import dotenv_values

    return set(dotenv_values(path))


def _source(var: str, dotenv: set[str]) -> str:
    # the CLI loads .env into the environment without overriding what was already set, so a
    # variable named in .env came from it unless the shell had set it too (not knowable now)
    return ".env" if var in dotenv else "environment"


@app.command("show")
def show(as_json: JsonOption = False) -> None:
    """Print every setting in force and where it came from; secrets are masked."""
    from handoffs.settings import ENV_PREFIX, Settings

    settings = Settings.from_env()
    dotenv = _dotenv_names()
    rows: list[dict[str, str]] = []
    for name in (f.name for f in fields(Settings)):
        var = ENV_PREFIX + name.upper()
        value = getattr(settings, name)
        text = ", ".join(value) if isinstance(value, tuple) else str(value)
        source = _source(var, dotenv) if var in os.environ or var in dotenv else "default"
        rows.append({"variable": var, "value": masked(var, text), "source": source})
    known = {r["variable"] for r in rows}
    for var in sorted(os.environ):
        if var.startswith(ENV_PREFIX) and var not in known:
            rows.append(
                {"variable": var, "value": masked(var, os.environ[var]), "source": _source(var, dotenv)}
            )
    if as_json:
        print_json(rows)
        return
    table = Table("variable", "value", "source")
    for r in rows:
        table.add_row(r["variable"], r["value"], r["source"])
    console.print(table)
