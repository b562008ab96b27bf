"""A folder of CSV exports as a source: any tool's export, described by a mapping file only.

Files dropped in ``{folder}/inbox`` are read row by row (each row a record keyed by the
mapping's ``key`` column, with ``_file`` and ``_line`` added), and moved to
``{folder}/archive`` once the pull that read them has stored everything
(:meth:`CsvFolderSource.commit`). A file re-dropped later is read again; the store's
version rules and the pull's key dedupe make that harmless.

Each physical line is decoded on its own: a line whose bytes are not in the file's encoding
(a stray Latin-1 ``é`` in a UTF-8 export) does not stop the file. Its row carries the line
with the bad bytes escaped (``caf\\xe9``) under ``_undecodable``, so the pull holds it as an
exception with that text, and the rows around it load.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from handoffs.connectors.base import Reachability
from handoffs.connectors.mapping.engine import UNDECODABLE

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
            rows = self._rows(path)
            self._read.append(path)
            yield rows

    def _rows(self, path: Path) -> list[dict[str, Any]]:
        text, bad = _decode_lines(path.read_bytes(), self.config.encoding)
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=self.config.delimiter)
        rows, last = [], 1  # the header is line 1
        for n, row in enumerate(reader, start=2):
            span = range(last + 1, reader.line_num + 1)  # the physical lines this row took
            last = reader.line_num
            record: dict[str, Any] = {**row, "_file": path.name, "_line": n}
            broken = [f"line {i}: {bad[i]}" for i in span if i in bad]
            if broken:
                record[UNDECODABLE] = f"not {self.config.encoding} text: " + "; ".join(broken)
            rows.append(record)
        return rows

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


def _decode_lines(data: bytes, encoding: str) -> tuple[str, dict[int, str]]:
    """The file's text, each line decoded on its own; the lines that were not ``encoding``
    (line number -> the line with its bad bytes escaped)."""
    text, bad = [], {}
    for n, raw in enumerate(data.splitlines(keepends=True), start=1):
        codec = encoding if n == 1 else _without_bom(encoding)
        try:
            text.append(raw.decode(codec))
        except UnicodeDecodeError:
            line = raw.decode(codec, errors="backslashreplace")
            text.append(line)
            bad[n] = line.rstrip("\r\n")
    return "".join(text), bad


def _without_bom(encoding: str) -> str:
    """A byte-order mark is only at the start of a file: later lines are read without one."""
    return "utf-8" if codecs.lookup(encoding).name == "utf-8-sig" else encoding
