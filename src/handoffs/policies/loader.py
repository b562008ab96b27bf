"""Load policy files: YAML in, :class:`Policy` out, every error with its file and line.

The YAML is composed into nodes (not loaded into Python values), so each error points at
the line of the key or value that broke the rule, and numbers are read from their source
text: ``amount_over: 1000.10`` becomes ``Decimal("1000.10")``, never a float.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from handoffs.policies.model import (
    ApprovalRule,
    BillableRules,
    Checks,
    GlCoding,
    ObjectOwnership,
    Ownership,
    Policy,
    PolicyBook,
    ReadinessRules,
    Scope,
    TaxRules,
)
from handoffs.policies.reader import PolicyError, Reader

__all__ = ["PolicyError", "load_book", "load_policy_text", "policy_files"]

T = TypeVar("T")
_OBJECT_TYPES = (
    "legal_entity customer resource contract project resource_request assignment time_entry expense "
    "invoice payment tax_code gl_account cost_centre fx_rate currency"
).split()


def _approval(r: Reader, node: Node, where: str) -> ApprovalRule | None:
    keys = r.mapping(node, where, ("name", "applies_to", "when", "require"))
    name = r.text(keys["name"][1], f"{where}.name") if "name" in keys else None
    applies = r.text(keys["applies_to"][1], f"{where}.applies_to") if "applies_to" in keys else "time"
    if applies not in ("time", "expense"):
        r.error(keys["applies_to"][1], f"{where}.applies_to must be time or expense, not {applies!r}")
        return None
    if name is None:
        r.error(node, f"{where} needs a name (decisions and exceptions quote it)")
        return None
    when = (
        r.mapping(keys["when"][1], f"{where}.when", ("hours_over", "amount_over")) if "when" in keys else {}
    )
    if not when:
        r.error(keys.get("when", (node, node))[1], f"{where}.when needs hours_over or amount_over")
    limits = {k: r.decimal(v, f"{where}.when.{k}") for k, (_, v) in when.items()}
    require = (
        r.mapping(keys["require"][1], f"{where}.require", ("approvers", "receipt"))
        if "require" in keys
        else {}
    )
    approvers = (
        r.integer(require["approvers"][1], f"{where}.require.approvers", 1) if "approvers" in require else 1
    )
    receipt = r.boolean(require["receipt"][1], f"{where}.require.receipt") if "receipt" in require else False
    if not require:
        r.error(keys.get("require", (node, node))[1], f"{where}.require needs approvers or receipt")
    if applies == "expense" and "approvers" in require:
        r.error(require["approvers"][0], f"{where}: expenses carry no approval chain; require a receipt")
    if applies == "time" and receipt:
        r.error(require["receipt"][0], f"{where}: time entries have no receipts")
    if None in limits.values():
        return None
    return ApprovalRule(
        name=name,
        applies_to="expense" if applies == "expense" else "time",
        hours_over=limits.get("hours_over"),
        amount_over=limits.get("amount_over"),
        approvers=approvers or 1,
        receipt=bool(receipt),
    )


def _ownership(r: Reader, node: Node) -> Ownership:
    keys = r.mapping(node, "ownership", ("hub_system", "objects"))
    hub = r.text(keys["hub_system"][1], "ownership.hub_system") if "hub_system" in keys else None
    objects: dict[str, ObjectOwnership] = {}
    if "objects" in keys:
        for type_, (key, value) in r.mapping(keys["objects"][1], "ownership.objects", _OBJECT_TYPES).items():
            spec = r.mapping(value, f"ownership.objects.{type_}", ("owner", "fields"))
            owner = r.text(spec["owner"][1], f"ownership.objects.{type_}.owner") if "owner" in spec else None
            if owner is None:
                r.error(key, f"ownership.objects.{type_} needs an owner (a system name)")
                continue
            fields = (
                r.strings(spec["fields"][1], f"ownership.objects.{type_}.fields") if "fields" in spec else {}
            )
            objects[type_] = ObjectOwnership(owner, fields)
    return Ownership(objects, hub or "handoffs")


def _sections(r: Reader, keys: dict[str, tuple[Node, Node]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "scope" in keys:
        scope = r.mapping(keys["scope"][1], "scope", ("legal_entities", "countries"))
        out["scope"] = Scope(
            *(
                r.texts(scope[k][1], f"scope.{k}") if k in scope else ()
                for k in ("legal_entities", "countries")
            )
        )
    for name, cls in (("checks", Checks), ("readiness", ReadinessRules)):
        if name in keys:
            out[name] = r.flags(keys[name][1], name, cls)
    if "approvals" in keys:
        node = keys["approvals"][1]
        items = node.value if isinstance(node, SequenceNode) else []
        if not isinstance(node, SequenceNode):
            r.error(node, "approvals must be a list of rules")
        rules = [_approval(r, item, f"approvals[{i}]") for i, item in enumerate(items)]
        out["approvals"] = tuple(x for x in rules if x is not None)
        names = [x.name for x in out["approvals"]]
        for i, n in enumerate(names):
            if n in names[:i]:
                r.error(items[i], f"approvals: rule name {n!r} is used twice")
    if "billable" in keys:
        b = r.mapping(keys["billable"][1], "billable", ("non_billable_tasks", "internal_projects"))
        tasks = (
            r.texts(b["non_billable_tasks"][1], "billable.non_billable_tasks")
            if "non_billable_tasks" in b
            else ()
        )
        internal = (
            r.texts(b["internal_projects"][1], "billable.internal_projects")
            if "internal_projects" in b
            else ()
        )
        out["billable"] = BillableRules(frozenset(tasks), internal)
    if "tax" in keys:
        t = r.mapping(keys["tax"][1], "tax", ("require_code", "allowed_codes"))
        out["tax"] = TaxRules(
            bool(r.boolean(t["require_code"][1], "tax.require_code")) if "require_code" in t else False,
            r.texts(t["allowed_codes"][1], "tax.allowed_codes") if "allowed_codes" in t else (),
        )
    if "gl" in keys:
        known = ("expense_accounts", "subsidiaries", "require_subsidiary", "require_cost_centre")
        g = r.mapping(keys["gl"][1], "gl", known)
        out["gl"] = GlCoding(
            r.strings(g["expense_accounts"][1], "gl.expense_accounts") if "expense_accounts" in g else {},
            r.strings(g["subsidiaries"][1], "gl.subsidiaries") if "subsidiaries" in g else {},
            *(bool(r.boolean(g[k][1], f"gl.{k}")) if k in g else False for k in known[2:]),
        )
    if "ownership" in keys:
        out["ownership"] = _ownership(r, keys["ownership"][1])
    return out


_TOP = (
    "policy version effective_from scope checks approvals billable tax gl readiness ownership description"
).split()


def load_policy_text(text: str, file: str) -> tuple[Policy | None, list[PolicyError]]:
    """Parse one policy file's text. Returns the policy (None on any error) and the errors."""
    r = Reader(file)
    try:
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return None, [PolicyError(file, line, f"not valid YAML: {exc.problem or exc}")]
    if root is None:
        return None, [PolicyError(file, 1, "the file is empty")]
    keys = r.mapping(root, "policy file", _TOP)
    for required in ("policy", "version", "effective_from"):
        if required not in keys and isinstance(root, MappingNode):
            r.error(root, f"missing required key {required!r}")
    name = r.text(keys["policy"][1], "policy") if "policy" in keys else None
    version = r.integer(keys["version"][1], "version", 1) if "version" in keys else None
    since = r.day(keys["effective_from"][1], "effective_from") if "effective_from" in keys else None
    sections = _sections(r, keys)
    if r.errors or name is None or version is None or since is None:
        return None, r.errors
    return Policy(name=name, version=version, effective_from=since, source=file, **sections), []


def policy_files(paths: Iterable[str | Path]) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files named, or found in the folders named, sorted."""
    found: list[Path] = []
    for item in map(Path, paths):
        found.extend(sorted([*item.glob("*.yaml"), *item.glob("*.yml")]) if item.is_dir() else [item])
    return found


def load_book(paths: Iterable[str | Path]) -> tuple[PolicyBook, list[PolicyError]]:
    """Load every file; check versions across files (a name's versions are unique and ordered)."""
    policies: list[Policy] = []
    errors: list[PolicyError] = []
    for path in policy_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            errors.append(PolicyError(str(path), 1, f"cannot read: {exc.strerror}"))
            continue
        policy, problems = load_policy_text(text, str(path))
        errors.extend(problems)
        if policy is not None:
            policies.append(policy)
    errors.extend(_cross_checks(policies))
    return PolicyBook.of(policies), errors


def _version_line(policy: Policy) -> int:
    try:
        root = yaml.compose(Path(policy.source).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return 1
    for key, _ in root.value if isinstance(root, MappingNode) else []:
        if key.value == "version":
            return int(key.start_mark.line) + 1
    return 1


def _cross_checks(policies: list[Policy]) -> list[PolicyError]:
    errors: list[PolicyError] = []
    by_name: dict[str, list[Policy]] = {}
    for p in policies:
        by_name.setdefault(p.name, []).append(p)
    for name, versions in sorted(by_name.items()):
        versions.sort(key=lambda p: (p.version, p.source))
        for before, after in itertools.pairwise(versions):
            if before.version == after.version:
                errors.append(
                    PolicyError(
                        after.source,
                        _version_line(after),
                        f"{name} v{after.version} is also in {before.source}",
                    )
                )
            elif after.effective_from <= before.effective_from:
                errors.append(
                    PolicyError(
                        after.source,
                        _version_line(after),
                        f"{name} v{after.version} must take effect after v{before.version} "
                        f"({before.effective_from.isoformat()})",
                    )
                )
    return errors
