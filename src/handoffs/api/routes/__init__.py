"""Routers of the three layers and the governance endpoints; :func:`problems` documents errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from handoffs.api.problems import PROBLEM_TYPE

__all__ = ["AUTHED", "POSTED", "ProblemOut", "problems"]


class ProblemOut(BaseModel):
    """RFC 9457 problem details (extension members may follow)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})
    type: str
    title: str
    status: int
    detail: str
    instance: str


_DESCRIPTIONS = {
    400: "Bad request",
    401: "No valid credentials",
    403: "A scope is missing",
    404: "Not found (also for another legal entity's objects)",
    409: "Conflicts with the object's state",
    413: "The body is larger than HANDOFFS_MAX_REQUEST_BYTES",
    422: "Invalid request, or an Idempotency-Key reused with another request",
    429: "Rate limit reached; see Retry-After",
    500: "Internal error (no details are given)",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these problem statuses, all as application/problem+json."""
    return {
        code: {
            "description": _DESCRIPTIONS[code],
            "model": ProblemOut,
            "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}},
        }
        for code in codes
    }


AUTHED = (400, 401, 403, 404, 422, 429, 500)
POSTED = (*AUTHED, 409, 413)
