"""Structured logs: JSON lines (``HANDOFFS_LOG_FORMAT=json``) or readable console lines.

Log calls carry the correlation id of the flow they are about, so a log search and a trace
lead to the same place. Secrets never reach a log: connectors mask them before they log.
"""

from __future__ import annotations

import logging
import os
import sys

import structlog

__all__ = ["configure_logging", "get_logger"]


def configure_logging(fmt: str | None = None, level: str | None = None) -> None:
    """Configure structlog and the standard library's logging once, at start-up."""
    fmt = fmt or os.environ.get("HANDOFFS_LOG_FORMAT", "console")
    level_no = getattr(
        logging, (level or os.environ.get("HANDOFFS_LOG_LEVEL", "WARNING")).upper(), logging.WARNING
    )
    renderer = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level_no, stream=sys.stderr, format="%(message)s")


class _Stderr:
    """Whatever ``sys.stderr`` is when a line is written (tests swap it; a CLI runner closes it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
