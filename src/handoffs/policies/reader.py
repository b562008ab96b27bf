"""Reading composed YAML nodes: values converted from their source text, errors with their line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["PolicyError", "Reader"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PolicyError:
    """One broken rule in a policy file, at a 1-based line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class Reader:
    """Walks composed YAML nodes, converting values and collecting errors with their lines."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[PolicyError] = []

    def error(self, node: Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.errors.append(PolicyError(self.file, line, message))

    def mapping(self, node: Node, where: str, known: Iterable[str]) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            self.error(node, f"{where} must be a mapping")
            return {}
        allowed = set(known)
        found: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else None
            if name is None or (allowed and name not in allowed):
                self.error(
                    key, f"{where}: unknown key {name!r} (expected one of {', '.join(sorted(allowed))})"
                )
            elif name in found:
                self.error(key, f"{where}: key {name!r} appears twice")
            else:
                found[name] = (key, value)
        return found

    def scalar(self, node: Node, where: str) -> ScalarNode | None:
        if isinstance(node, ScalarNode) and node.tag != "tag:yaml.org,2002:null":
            return node
        self.error(node, f"{where} must be a single value")
        return None

    def text(self, node: Node, where: str) -> str | None:
        s = self.scalar(node, where)
        if s is None:
            return None
        if not s.value.strip():
            self.error(node, f"{where} must not be blank")
            return None
        return str(s.value)

    def boolean(self, node: Node, where: str) -> bool | None:
        s = self.scalar(node, where)
        if s is not None and s.tag == "tag:yaml.org,2002:bool":
            return s.value.lower() in ("true", "yes", "on")
        if s is not None:
            self.error(node, f"{where} must be true or false, not {s.value!r}")
        return None

    def integer(self, node: Node, where: str, minimum: int = 0) -> int | None:
        s = self.scalar(node, where)
        if s is None:
            return None
        if s.tag != "tag:yaml.org,2002:int" or int(s.value) < minimum:
            self.error(node, f"{where} must be a whole number of at least {minimum}, not {s.value!r}")
            return None
        return int(s.value)

    def decimal(self, node: Node, where: str) -> Decimal | None:
        s = self.scalar(node, where)
        if s is None:
            return None
        try:
            value = Decimal(s.value)
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value < 0:
            self.error(node, f"{where} must be a non-negative number, not {s.value!r}")
            return None
        return value

    def day(self, node: Node, where: str) -> date | None:
        s = self.scalar(node, where)
        if s is None:
            return None
        try:
            return date.fromisoformat(s.value)
        except ValueError:
            self.error(node, f"{where} must be a date YYYY-MM-DD, not {s.value!r}")
            return None

    def texts(self, node: Node, where: str) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode):
            self.error(node, f"{where} must be a list")
            return ()
        values = [self.text(item, f"{where}[{i}]") for i, item in enumerate(node.value)]
        return tuple(v for v in values if v is not None)

    def strings(self, node: Node, where: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, (_, value) in self.mapping(node, where, ()).items():
            text = self.text(value, f"{where}.{name}")
            if text is not None:
                out[name] = text
        return out

    def flags(self, node: Node, where: str, cls: Callable[..., T]) -> T:
        """A section of booleans whose names are the dataclass's fields."""
        names = list(getattr(cls, "__dataclass_fields__", {}))
        values = {}
        for name, (_, value) in self.mapping(node, where, names).items():
            flag = self.boolean(value, f"{where}.{name}")
            if flag is not None:
                values[name] = flag
        return cls(**values)
