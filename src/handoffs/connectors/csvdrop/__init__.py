"""Folder drops: CSV files in and out (legacy GL interface files, other tools' time exports)."""

from handoffs.connectors.csvdrop.gl import LegacyGlConfig, LegacyGlErp
from handoffs.connectors.csvdrop.source import CsvFolderConfig, CsvFolderSource

__all__ = ["CsvFolderConfig", "CsvFolderSource", "LegacyGlConfig", "LegacyGlErp"]
