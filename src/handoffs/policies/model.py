"""The policy model: one versioned rule file per legal entity or region, and the book of them.

A :class:`Policy` is one version of a named rule set. It applies to the legal entities or
countries of its :class:`Scope` (an empty scope is the default for everyone) from its
``effective_from`` date. :meth:`PolicyBook.select` picks, for a legal entity and a business
date (a work date, an expense date, a billing period's last day), the most specific scope
that has a version in force, then that name's latest version in force.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Literal

__all__ = [
    "ApprovalRule",
    "BillableRules",
    "Checks",
    "GlCoding",
    "ObjectOwnership",
    "Ownership",
    "Policy",
    "PolicyBook",
    "ReadinessRules",
    "Scope",
    "TaxRules",
]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which records a policy governs: legal entity ids and/or ISO country codes; empty = all."""

    legal_entities: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    def specificity(self, legal_entity_id: str | None, country: str | None) -> int | None:
        """2 for a named legal entity, 1 for its country, 0 for a default scope, None if outside."""
        if legal_entity_id is not None and legal_entity_id in self.legal_entities:
            return 2
        if country is not None and country in self.countries:
            return 1
        if not self.legal_entities and not self.countries:
            return 0
        return None


@dataclass(frozen=True, slots=True)
class Checks:
    """Record checks that need no parameters."""

    project_active: bool = True
    resource_assigned: bool = True
    no_self_approval: bool = True
    # billed time whose approval is withdrawn is credited at once (otherwise it waits as a
    # credit-and-rebill proposal for a person, as without any policy)
    reverse_withdrawn_approvals: bool = True


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    """Above a threshold (hours or amount, exclusive), a record needs more approvers or a receipt."""

    name: str
    applies_to: Literal["time", "expense"]
    hours_over: Decimal | None = None
    amount_over: Decimal | None = None
    approvers: int = 1
    receipt: bool = False

    def triggered(self, hours: Decimal | None, amount: Decimal | None) -> bool:
        if self.hours_over is not None and hours is not None and hours > self.hours_over:
            return True
        return self.amount_over is not None and amount is not None and amount > self.amount_over


@dataclass(frozen=True, slots=True)
class BillableRules:
    """Time that is never billed, whatever the timesheet says."""

    non_billable_tasks: frozenset[str] = frozenset()
    internal_projects: tuple[str, ...] = ()  # project ids or glob patterns (``P-INT-*``)

    def internal(self, project_id: str) -> bool:
        return any(fnmatch.fnmatchcase(project_id, p) for p in self.internal_projects)


@dataclass(frozen=True, slots=True)
class TaxRules:
    require_code: bool = False
    allowed_codes: tuple[str, ...] = ()  # empty: any code of the legal entity


@dataclass(frozen=True, slots=True)
class GlCoding:
    expense_accounts: Mapping[str, str] = field(default_factory=dict)  # category -> account number
    subsidiaries: Mapping[str, str] = field(default_factory=dict)  # legal entity -> ERP subsidiary
    require_subsidiary: bool = False
    require_cost_centre: bool = False


@dataclass(frozen=True, slots=True)
class ReadinessRules:
    require_approved_effort: bool = True
    require_milestone_acceptance: bool = True
    block_on_open_exceptions: bool = True
    block_on_unapproved_time: bool = True
    # Hold a project's billing run (no revenue, invoice or journal) while it is blocked.
    hold_billing_until_ready: bool = False


@dataclass(frozen=True, slots=True)
class ObjectOwnership:
    """The system of record for one object type, with per-field exceptions."""

    owner: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def owner_of(self, name: str) -> str:
        return self.fields.get(name, self.owner)


@dataclass(frozen=True, slots=True)
class Ownership:
    objects: Mapping[str, ObjectOwnership] = field(default_factory=dict)
    hub_system: str = "handoffs"


@dataclass(frozen=True, slots=True)
class Policy:
    """One version of a named policy, as loaded from ``source`` (a file path)."""

    name: str
    version: int
    effective_from: date
    scope: Scope = Scope()
    checks: Checks = Checks()
    approvals: tuple[ApprovalRule, ...] = ()
    billable: BillableRules = BillableRules()
    tax: TaxRules = TaxRules()
    gl: GlCoding = GlCoding()
    readiness: ReadinessRules = ReadinessRules()
    ownership: Ownership = Ownership()
    source: str = ""

    @property
    def ref(self) -> str:
        """``name@vN``: how decisions and exceptions name the version they were made under."""
        return f"{self.name}@v{self.version}"


@dataclass(frozen=True, slots=True)
class PolicyBook:
    """Every loaded policy version; selection is by scope, then effective date."""

    policies: tuple[Policy, ...] = ()

    def select(self, legal_entity_id: str | None, country: str | None, day: date) -> Policy | None:
        """The policy in force for a legal entity (and its country) on ``day``, or None."""
        best: tuple[int, date, int] | None = None
        chosen: Policy | None = None
        for policy in self.policies:
            rank = policy.scope.specificity(legal_entity_id, country)
            if rank is None or policy.effective_from > day:
                continue
            key = (rank, policy.effective_from, policy.version)
            if best is None or key > best:
                best, chosen = key, policy
        return chosen

    def with_policy(self, proposed: Policy) -> PolicyBook:
        """This book with ``proposed`` replacing any version of the same name and number."""
        kept = [p for p in self.policies if (p.name, p.version) != (proposed.name, proposed.version)]
        return PolicyBook((*kept, proposed))

    def as_of(self, proposed: Policy, day: date) -> PolicyBook:
        """This book with ``proposed`` in force from ``day`` (for a what-if replay of a period)."""
        return self.with_policy(replace(proposed, effective_from=min(proposed.effective_from, day)))

    def ownership(self, legal_entity_id: str | None, country: str | None, day: date) -> Ownership:
        policy = self.select(legal_entity_id, country, day)
        return policy.ownership if policy is not None else Ownership()

    @classmethod
    def of(cls, policies: Iterable[Policy]) -> PolicyBook:
        return cls(tuple(policies))
