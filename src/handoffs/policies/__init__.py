"""Policies: versioned, declarative rules per legal entity or region, loaded and evaluated purely.

``loader`` turns YAML files into :class:`Policy` versions (every error with file:line),
``model`` holds them in a :class:`PolicyBook` that selects the version in force, and
``evaluate`` decides a record under one version, naming the rule that decided.
"""

from handoffs.policies.evaluate import (
    Decision,
    ExpenseFacts,
    TimeFacts,
    approvers_of,
    evaluate_expense,
    evaluate_time,
    facts_context,
)
from handoffs.policies.loader import PolicyError, load_book, load_policy_text, policy_files
from handoffs.policies.model import Policy, PolicyBook

__all__ = [
    "Decision",
    "ExpenseFacts",
    "Policy",
    "PolicyBook",
    "PolicyError",
    "TimeFacts",
    "approvers_of",
    "evaluate_expense",
    "evaluate_time",
    "facts_context",
    "load_book",
    "load_policy_text",
    "policy_files",
]
