"""What ``handoffs`` says when something goes wrong: one or two lines and a documented exit code.

Exit codes, the same for every command (README, docs/runbooks.md):

* ``0`` success;
* ``1`` done, but something needs a person (failed lines, dead letters, breaks found), or an
  unexpected error (a bug: ``--debug`` shows its traceback);
* ``2`` usage, configuration or not found: nothing was done;
* ``130`` interrupted (Ctrl-C).

Commands raise :class:`CliError` for what they know; :func:`run` maps everything else it
recognises (settings, database URLs, an unreachable server, a missing file) to a short
message. Under ``--json`` the message is a JSON object on standard output instead.

::

    CliError        a message for the user and an exit code (2 unless said)
    └── NotFound    a named thing does not exist (2)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import orjson
from typer._click import Command, Context
from typer._click.exceptions import ClickException, UsageError  # typer bundles its own click
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit

__all__ = [
    "EXIT_ATTENTION",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliError",
    "Group",
    "NotFound",
    "run",
]

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
_DEBUG_HINT = "Run again with --debug (or HANDOFFS_DEBUG=1) for the traceback."
_URL_HELP = "use sqlite:///PATH or postgresql://USER@HOST:PORT/DB (--database-url or HANDOFFS_DATABASE_URL)"


class CliError(Exception):
    """An error the user can act on: ``message`` (one or two lines) and the exit ``code``."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotFound(CliError):
    """A thing named on the command line does not exist (exit 2)."""


def _debug(args: Sequence[str]) -> bool:
    flag = os.environ.get("HANDOFFS_DEBUG", "").strip().lower()
    return "--debug" in args or flag not in ("", "0", "false", "no")


def describe(exc: BaseException) -> tuple[str, int] | None:
    """The message and exit code for an error a user can fix, or ``None`` for a bug."""
    from sqlalchemy import exc as sa

    from handoffs.config.systems import SystemsConfigError
    from handoffs.connectors.secrets import SecretError
    from handoffs.keyring import KeyringError
    from handoffs.settings import SettingsError

    if isinstance(exc, CliError):
        return exc.message, exc.code
    if isinstance(exc, SettingsError | SystemsConfigError | SecretError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, KeyringError):
        return f"{exc} (see docs/security.md: the master secret)", EXIT_USAGE
    if isinstance(exc, sa.ArgumentError | sa.NoSuchModuleError):
        return f"Not a database URL handoffs can use ({_first_line(exc)}): {_URL_HELP}", EXIT_USAGE
    if isinstance(exc, sa.OperationalError | sa.InterfaceError):
        return f"The database did not answer: {_first_line(exc.orig or exc)}", EXIT_USAGE
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError):
        return f"Cannot open {exc.filename}: {exc.strerror}", EXIT_USAGE
    import httpx

    if isinstance(exc, httpx.TransportError):
        where = exc.request.url if _has_request(exc) else "a system"
        return f"Cannot reach {where}: {_first_line(exc) or type(exc).__name__}", EXIT_USAGE
    return None


def _has_request(exc: Any) -> bool:
    try:
        exc.request  # noqa: B018 (httpx raises RuntimeError when the error has no request)
    except RuntimeError:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else ""


def _say(message: str, code: int, *, as_json: bool) -> int:
    if as_json:
        body = {"error": {"message": message, "exit_code": code}}
        sys.stdout.write(orjson.dumps(body).decode() + "\n")
    else:
        sys.stderr.write(f"Error: {message}\n")
    return code


class Group(TyperGroup):
    """The root command group: an error a user can fix, raised by any command under it, is said
    in one or two lines with its exit code, wherever the command runs (typer's test runner too).
    """

    json_errors = False  # set by :func:`run` when the command line has --json

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            known = None if ctx.params.get("debug") or _debug(()) else describe(exc)
            if known is None:
                raise
            raise Exit(_say(*known, as_json=Group.json_errors)) from None


def run(command: Command, args: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code; expected errors never show a traceback."""
    args = list(sys.argv[1:] if args is None else args)
    as_json = Group.json_errors = "--json" in args
    try:
        rv = command.main(args, prog_name="handoffs", standalone_mode=False)
    except UsageError as exc:
        if as_json:
            return _say(exc.format_message(), EXIT_USAGE, as_json=True)
        hint = f"\nTry '{exc.ctx.command_path} --help' for help." if exc.ctx else ""
        sys.stderr.write(f"Error: {exc.format_message()}{hint}\n")
        return EXIT_USAGE
    except ClickException as exc:
        return _say(exc.format_message(), exc.exit_code, as_json=as_json)
    except (Abort, KeyboardInterrupt):
        return _say("Interrupted.", EXIT_INTERRUPTED, as_json=as_json)
    except Exception as exc:
        if _debug(args):
            raise
        known = describe(exc)
        if known is None:
            message = f"unexpected {type(exc).__name__}: {_first_line(exc)}\n{_DEBUG_HINT}"
            return _say(message, EXIT_ATTENTION, as_json=as_json)
        return _say(*known, as_json=as_json)
    return rv if isinstance(rv, int) else EXIT_OK
