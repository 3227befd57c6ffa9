"""`/metrics`, which Prometheus scrapes (see `app.core.observability.metrics`): open, unless
METRICS_KEY is set (see `app.core.http.access.require_metrics_key`)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.core.http import MetricsAccess, from_state
from app.core.observability import ServiceMetrics

MetricsDep = Annotated[ServiceMetrics, Depends(from_state("metrics", ServiceMetrics))]
router = APIRouter()


@router.get("/metrics", include_in_schema=False, dependencies=[MetricsAccess])
async def metrics(request: Request, service_metrics: MetricsDep) -> Response:
    """Prometheus scrapes this; it is left out of the OpenAPI schema, which describes the API.
    Rendered in a thread: with every route's histogram it takes some milliseconds (see
    docs/benchmarks.md), which requests should not wait for."""
    accept = request.headers.get("accept")
    body, content_type = await asyncio.to_thread(service_metrics.exposition, accept)
    return Response(body, media_type=content_type)
