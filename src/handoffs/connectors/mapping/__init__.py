"""Declarative mappings between systems' records and canonical objects (YAML, versioned)."""

from handoffs.connectors.mapping.engine import (
    MISSING,
    Lookups,
    MappingFailure,
    NoLookups,
    apply_mapping,
    get_path,
    record_key,
    record_updated,
    to_canonical_json,
)
from handoffs.connectors.mapping.spec import (
    FieldRule,
    MappingFile,
    MappingSpec,
    MappingSpecError,
    load_mapping,
    parse_mapping,
)

__all__ = [
    "MISSING",
    "FieldRule",
    "Lookups",
    "MappingFailure",
    "MappingFile",
    "MappingSpec",
    "MappingSpecError",
    "NoLookups",
    "apply_mapping",
    "get_path",
    "load_mapping",
    "parse_mapping",
    "record_key",
    "record_updated",
    "to_canonical_json",
]
