"""The business date option shared by the billing commands and the worker."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

__all__ = ["AsOfOption", "as_of_date"]


def _check(value: str | None) -> str | None:
    if value is not None:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise typer.BadParameter("must be a date, YYYY-MM-DD") from None
    return value


AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The business date to act on, YYYY-MM-DD (default: HANDOFFS_AS_OF, else today).",
        callback=_check,
        show_default=False,
    ),
]


def as_of_date(value: str | None) -> date | None:
    """The ``--as-of`` value as a date (None when not given: the setting or the clock decides)."""
    return date.fromisoformat(value) if value else None
