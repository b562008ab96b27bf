"""``GET /metrics``: the Prometheus exposition of this process and of the store.

Protected like every other route: a client with the ``metrics:read`` scope and every legal
entity (the numbers are firm-wide). Point Prometheus at it with a bearer credential
(``authorization: {credentials_file: ...}`` in the scrape config). Workers serve their own
in-memory metrics unauthenticated on 127.0.0.1 only (``handoffs worker --metrics-port``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from handoffs.api.deps import Ctx, MetricsRead
from handoffs.api.problems import Forbidden
from handoffs.api.routes import AUTHED, problems

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {
                CONTENT_TYPE_PLAIN_0_0_4.split(";")[0]: {"schema": {"type": "string"}},
                "application/openmetrics-text": {"schema": {"type": "string"}},
            }
        },
        **problems(*AUTHED),
    },
)
def metrics(
    ctx: Ctx, principal: MetricsRead, accept: Annotated[str | None, Header(max_length=1000)] = None
) -> Response:
    """Prometheus metrics: messages, latency, dead letters, calls per system, circuits, open exceptions.

    The format follows the ``Accept`` header as a worker's metrics port does: the text format
    0.0.4 by default, OpenMetrics or text 1.0.0 when the scraper asks for them.
    """
    if principal.entities is not None:
        raise Forbidden("metrics are firm-wide: only a client scoped to every legal entity may read them")
    body, content_type = ctx.app.metrics.exposition(accept)
    return Response(body, headers={"Content-Type": content_type})
