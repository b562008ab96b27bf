"""Delivery: projects, staffing requests, assignments, time entries and expenses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from handoffs.domain.errors import ValidationError
from handoffs.domain.money import Money
from handoffs.domain.rules import check_id, check_non_negative, check_range, require

__all__ = [
    "ApprovalStatus",
    "Assignment",
    "Expense",
    "Project",
    "ResourceRequest",
    "TimeEntry",
    "check_entry_in_schedule",
]

ApprovalStatus = Literal["draft", "submitted", "approved", "rejected"]
_STATUSES = ("draft", "submitted", "approved", "rejected")
MAX_HOURS_PER_ENTRY = Decimal(24)


@dataclass(frozen=True, kw_only=True, slots=True)
class Project:
    """Delivery work for a customer under a contract; internal projects have no contract."""

    id: str
    name: str
    legal_entity_id: str
    start_date: date
    customer_id: str | None = None
    contract_id: str | None = None
    end_date: date | None = None
    status: Literal["proposed", "active", "on_hold", "closed"] = "active"
    billable: bool = True
    cost_centre_id: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        require(bool(self.name.strip()), "name", "must not be blank")
        check_id(self.legal_entity_id, "legal_entity_id")
        check_range(self.start_date, self.end_date)
        if self.billable:
            require(self.contract_id is not None, "contract_id", "a billable project needs a contract")
            require(self.customer_id is not None, "customer_id", "a billable project needs a customer")

    def covers(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


@dataclass(frozen=True, kw_only=True, slots=True)
class ResourceRequest:
    """A staffing need: a role and hours per week over a date range."""

    id: str
    project_id: str
    role: str
    start_date: date
    end_date: date
    hours_per_week: Decimal
    skills: tuple[str, ...] = ()
    status: Literal["open", "filled", "cancelled"] = "open"
    requested_at: datetime | None = None  # when it was raised in its system: starts time to staff
    proposed_resource_id: str | None = None  # who the resourcing manager put forward to fill it
    proposed_at: datetime | None = None  # when they did, in its system

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.project_id, "project_id")
        check_range(self.start_date, self.end_date)
        require(Decimal(0) < self.hours_per_week <= Decimal(168), "hours_per_week", "must be 0-168")
        if self.proposed_resource_id is not None:
            check_id(self.proposed_resource_id, "proposed_resource_id")


@dataclass(frozen=True, kw_only=True, slots=True)
class Assignment:
    """A resource staffed on a project in a role for a date range."""

    id: str
    project_id: str
    resource_id: str
    role: str
    start_date: date
    end_date: date | None = None
    hours_per_week: Decimal = Decimal(40)
    request_id: str | None = None
    assigned_at: datetime | None = None  # when the resource was named for the request it fills

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.project_id, "project_id")
        check_id(self.resource_id, "resource_id")
        check_range(self.start_date, self.end_date)
        require(Decimal(0) < self.hours_per_week <= Decimal(168), "hours_per_week", "must be 0-168")

    def covers(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


@dataclass(frozen=True, kw_only=True, slots=True)
class TimeEntry:
    """Hours one resource worked on one project on one day."""

    id: str
    resource_id: str
    project_id: str
    work_date: date
    hours: Decimal
    role: str | None = None
    assignment_id: str | None = None
    billable: bool = True
    status: ApprovalStatus = "submitted"
    approved_by: str | None = None
    approved_at: datetime | None = None
    task: str | None = None
    notes: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.resource_id, "resource_id")
        check_id(self.project_id, "project_id")
        require(Decimal(0) < self.hours <= MAX_HOURS_PER_ENTRY, "hours", "must be more than 0 and at most 24")
        require(self.hours == self.hours.quantize(Decimal("0.0001")), "hours", "at most 4 decimals")
        require(self.status in _STATUSES, "status", f"must be one of {', '.join(_STATUSES)}")

    @property
    def period(self) -> str:
        return f"{self.work_date.year:04d}-{self.work_date.month:02d}"

    @property
    def is_billable_approved(self) -> bool:
        return self.billable and self.status == "approved"


def check_entry_in_schedule(entry: TimeEntry, project: Project, assignment: Assignment | None) -> None:
    """An entry's date must fall inside its project and, when given, its assignment."""
    day = entry.work_date.isoformat()
    if entry.project_id != project.id:
        raise ValidationError("project_id", f"entry is for {entry.project_id}, not {project.id}")
    if not project.covers(entry.work_date):
        raise ValidationError("work_date", f"{day} is outside project {project.id}'s dates")
    if assignment is not None:
        if assignment.resource_id != entry.resource_id or assignment.project_id != entry.project_id:
            raise ValidationError("assignment_id", f"assignment {assignment.id} is not this resource's")
        if not assignment.covers(entry.work_date):
            raise ValidationError("work_date", f"{day} is outside assignment {assignment.id}'s dates")


@dataclass(frozen=True, kw_only=True, slots=True)
class Expense:
    """A cost a resource incurred on a project, possibly reimbursable and/or billable."""

    id: str
    resource_id: str
    project_id: str
    incurred_on: date
    category: str
    amount: Money
    billable: bool = True
    reimbursable: bool = True
    has_receipt: bool = True
    status: ApprovalStatus = "submitted"
    description: str | None = None
    report_id: str | None = None  # the report the line came on, where the tool groups lines so
    tax_code_id: str | None = None  # its own tax code (zero-rated, exempt); None: the contract's chain

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.resource_id, "resource_id")
        check_id(self.project_id, "project_id")
        require(bool(self.category.strip()), "category", "must not be blank")
        check_non_negative(self.amount, "amount")
        require(self.status in _STATUSES, "status", f"must be one of {', '.join(_STATUSES)}")
