"""A folder of CSV exports as a source: any tool's export, described by a mapping file only.

Files dropped in ``{folder}/inbox`` are read row by row (each row a record keyed by the
mapping's ``key`` column, with ``_file`` and ``_line`` added), and moved to
``{folder}/archive`` once the pull that read them has stored everything
(:meth:`CsvFolderSource.commit`). A file re-dropped later is read again; the store's
version rules and the pull's key dedupe make that harmless.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from handoffs.connectors.base import Reachability

__all__ = ["CsvFolderConfig", "CsvFolderSource"]


@dataclass(frozen=True, slots=True)
class CsvFolderConfig:
    folder: Path
    resource: str = "time_entries"
    delimiter: str = ","
    encoding: str = "utf-8-sig"  # exports from spreadsheet tools often start with a BOM

    @classmethod
    def from_entry(cls, entry: dict[str, Any], base_dir: Path = Path(".")) -> CsvFolderConfig:
        options = entry.get("options") or {}
        return cls(
            folder=base_dir / str(entry["folder"]),
            resource=str((entry.get("resources") or ["time_entries"])[0]),
            delimiter=str(options.get("delimiter", ",")),
            encoding=str(options.get("encoding", "utf-8-sig")),
        )


class CsvFolderSource:
    def __init__(self, system: str, config: CsvFolderConfig) -> None:
        self.system, self.config = system, config
        self.inbox, self.archive = config.folder / "inbox", config.folder / "archive"
        self._read: list[Path] = []

    def resources(self) -> tuple[str, ...]:
        return (self.config.resource,)

    def fetch(self, resource: str, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        """One page per file, oldest file first (``since`` is not used: files are consumed)."""
        if resource != self.config.resource:
            raise ValueError(f"{self.system} has no resource {resource!r}")
        self._read = []
        for path in sorted(self.inbox.glob("*.csv")):
            with path.open(encoding=self.config.encoding, newline="") as fh:
                reader = csv.DictReader(fh, delimiter=self.config.delimiter)
                rows = [{**row, "_file": path.name, "_line": n} for n, row in enumerate(reader, start=2)]
            self._read.append(path)
            yield rows

    def commit(self, resource: str) -> None:
        """Archive the files the last pull read (called once everything is stored)."""
        self.archive.mkdir(parents=True, exist_ok=True)
        for path in self._read:
            if path.exists():
                path.replace(self.archive / path.name)
        self._read = []

    def check(self) -> Reachability:
        if not self.inbox.is_dir():
            return Reachability(self.system, False, f"folder {self.inbox} does not exist")
        return Reachability(self.system, True, f"{len(list(self.inbox.glob('*.csv')))} files waiting")
