"""The audit log: who did what, when, with the state before and after, in a keyed hash chain."""

from handoffs.audit.chain import AuditEntry, Break, Report, append, entries, verify, verify_chain
from handoffs.audit.checkpoint import Checkpoint, CheckpointError, read_checkpoint, sign_checkpoint

__all__ = [
    "AuditEntry",
    "Break",
    "Checkpoint",
    "CheckpointError",
    "Report",
    "append",
    "entries",
    "read_checkpoint",
    "sign_checkpoint",
    "verify",
    "verify_chain",
]
