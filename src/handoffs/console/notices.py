"""The console's success banners: a redirect names a code, the page shows that code's fixed text.

Nothing from the address bar is shown as text: an unknown code shows no banner, so a link
someone crafted cannot put words of theirs on a console page. The texts are filled only
with data the page reads from the store (the exception's id, state and owner).
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXCEPTION_DONE", "USERS_DONE", "exception_notice", "users_notice"]

EXCEPTION_DONE = {
    "updated": "Exception {id} is {state}.",
    "requeued": "Exception {id} is retrying: its work is queued again for the worker.",
    "assigned": "Exception {id} is owned by {owner}.",
    "fixed": "Exception {id} resolved: the corrected record is loaded.",
    "replayed": "Exception {id} replayed: its runs are queued for the worker.",
}
USERS_DONE = {
    "added": "User added.",
    "role": "Role changed.",
    "deleted": "User deleted.",
}


def exception_notice(code: str, record: Any) -> str:
    """The banner for ``code`` on ``record``'s page, or "" for no known code."""
    text = EXCEPTION_DONE.get(code)
    if text is None:
        return ""
    return text.format(id=record.id, state=record.state, owner=record.owner or "nobody")


def users_notice(code: str) -> str:
    """The banner for ``code`` on the users page, or "" for no known code."""
    return USERS_DONE.get(code, "")
