"""``handoffs apikey``: create, rotate, list and revoke API clients' keys (audited)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from handoffs.cli.common import (
    CliError,
    DbOption,
    JsonOption,
    NotFound,
    cli_actor,
    console,
    open_app,
    print_json,
    require_schema,
)
from handoffs.store.repositories.api_clients import ApiClientRepository

app = typer.Typer(help="Manage API clients and their keys (keys are stored hashed).", no_args_is_help=True)


@app.command("create")
def create(
    client_id: Annotated[str, typer.Argument(help="A short id for the client, e.g. portal or acme-mobile.")],
    scope: Annotated[list[str], typer.Option("--scope", help="Repeat: system:read, process:write...")],
    entity: Annotated[
        list[str] | None,
        typer.Option("--entity", help="Limit to these legal entities (repeat); default all."),
    ] = None,
    rate: Annotated[float, typer.Option(min=0.01, help="Requests per second on average.")] = 20.0,
    burst: Annotated[float, typer.Option(min=1, help="Largest burst of requests.")] = 40.0,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a client with its first key. The key is printed once and cannot be shown again."""
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    try:
        with hub.uow() as uow:
            from handoffs.api.clients import create_client

            key = create_client(uow, cli_actor(), client_id, scope, entity or None, rate=rate, burst=burst)
            uow.commit()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    finally:
        hub.close()
    _show_key(client_id, key.prefix, key.secret, as_json)


@app.command("rotate")
def rotate(
    client_id: Annotated[str, typer.Argument(help="The client to give a new key.")],
    revoke_old: Annotated[bool, typer.Option(help="Revoke the client's other keys now.")] = False,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give a client a new key (printed once); revoke the old ones now or after the switch."""
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    try:
        with hub.uow() as uow:
            from handoffs.api.clients import rotate_key

            key = rotate_key(uow, cli_actor(), client_id, revoke_old=revoke_old)
            uow.commit()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    finally:
        hub.close()
    _show_key(client_id, key.prefix, key.secret, as_json)


def _show_key(client_id: str, prefix: str, secret: str, as_json: bool) -> None:
    if as_json:
        print_json({"client_id": client_id, "key_prefix": prefix, "api_key": secret})
        return
    console.print(
        f"Client [bold]{client_id}[/bold], key {prefix}. Store this key now; it is not shown again:"
    )
    console.print(secret, soft_wrap=True, highlight=False)


@app.command("list")
def list_(database_url: DbOption = None, as_json: JsonOption = False) -> None:
    """Clients with their scopes, legal entities and key prefixes (never the keys)."""
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    with hub.uow() as uow:
        repo = ApiClientRepository(uow.connection, uow.now)
        clients = repo.clients()
        keys = repo.keys()
    hub.close()
    rows: list[dict[str, Any]] = [
        {
            "client_id": c.id,
            "scopes": sorted(c.scopes),
            "entities": None if c.entities is None else sorted(c.entities),
            "rate": c.rate,
            "burst": c.burst,
            "keys": [
                {
                    "prefix": k.prefix,
                    "created_at": k.created_at.isoformat(),
                    "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                }
                for k in keys
                if k.client_id == c.id
            ],
        }
        for c in clients
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="API clients")
    for col in ("client", "scopes", "entities", "keys"):
        table.add_column(col)
    for r in rows:
        keys_text = "\n".join(f"{k['prefix']}{' (revoked)' if k['revoked_at'] else ''}" for k in r["keys"])
        table.add_row(r["client_id"], " ".join(r["scopes"]), " ".join(r["entities"] or ["all"]), keys_text)
    console.print(table)


@app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="The key's id or prefix (hk_live_...).")],
    database_url: DbOption = None,
) -> None:
    """Revoke a key at once: its tokens stop working; a client's last key ends its subscriptions."""
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    with hub.uow() as uow:
        from handoffs.api.clients import revoke_key

        done = revoke_key(uow, cli_actor(), key)
        uow.commit()
    hub.close()
    if not done:
        raise NotFound(f"No active key {key}.")
    console.print(f"Revoked {key}.")
