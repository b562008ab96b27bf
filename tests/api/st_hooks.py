"""Schemathesis hooks: behave like a well-mannered client, one fresh Idempotency-Key per intended change.

Without this, generated keys repeat ("0", "0"...) with different bodies and the API rightly
answers 422; idempotency itself is tested in test_governance.py.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and _VALID.match(key):
        headers["Idempotency-Key"] = f"st-{uuid.uuid4()}"
        case.headers = headers
