"""The audit log: who did what, when, with the state before and after, in a hash chain."""

from handoffs.audit.chain import AuditEntry, Break, append, entries, verify

__all__ = ["AuditEntry", "Break", "append", "entries", "verify"]
