"""``GET /metrics``: the Prometheus exposition of this process and of the store.

Protected like every other route: a client with the ``metrics:read`` scope and every legal
entity (the numbers are firm-wide). Point Prometheus at it with a bearer credential
(``authorization: {credentials_file: ...}`` in the scrape config). Workers serve their own
in-memory metrics unauthenticated on 127.0.0.1 only (``handoffs worker --metrics-port``).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from handoffs.api.deps import Ctx, MetricsRead
from handoffs.api.problems import Forbidden
from handoffs.api.routes import AUTHED, problems

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}},
        **problems(*AUTHED),
    },
)
def metrics(ctx: Ctx, principal: MetricsRead) -> Response:
    """Prometheus metrics: messages, latency, dead letters, calls per system, circuits, open exceptions."""
    if principal.entities is not None:
        raise Forbidden("metrics are firm-wide: only a client scoped to every legal entity may read them")
    return Response(ctx.app.metrics.render(), media_type=CONTENT_TYPE_LATEST)
