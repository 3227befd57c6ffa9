"""Anomaly detection routes: validate, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.anomaly.schemas import (
    AnomalyDetectionRequest,
    AnomalyResult,
    AnomalyStatus,
    RecentAnomalies,
)
from app.anomaly.service import AnomalyService
from app.core.http import SettingsDep, from_state
from app.core.schemas import CROSS_SITE, ERROR_RESPONSES, SERVED_BY_A_MODEL, SLOW_BODY, TOO_LARGE
from app.errors import InvalidInput

ServiceDep = Annotated[AnomalyService, Depends(from_state("anomaly", AnomalyService))]
router = APIRouter(
    prefix="/api/v1/anomaly", tags=["Anomaly Detection"], responses=SERVED_BY_A_MODEL
)


@router.post(
    "/detect",
    summary="Score transactions for anomalies",
    response_model=list[AnomalyResult],
    responses={**ERROR_RESPONSES, 403: CROSS_SITE, 408: SLOW_BODY, 413: TOO_LARGE},
)
async def detect(request: AnomalyDetectionRequest, service: ServiceDep) -> list[AnomalyResult]:
    """One result per data point, in order; an empty `data_points` list returns `[]`. Each
    result has a severity and the features that make the point unusual, with a sentence."""
    return await service.detect(request.data_points, request.features)


@router.get(
    "/recent",
    summary="The most anomalous stored transactions of the last days",
    response_model=RecentAnomalies,
    responses=ERROR_RESPONSES,
)
async def recent(
    service: ServiceDep,
    settings: SettingsDep,
    days: Annotated[
        int, Query(ge=1, description="Days back from today (UTC), today included.", examples=[7])
    ] = 7,
    limit: Annotated[
        int, Query(ge=1, le=500, description="How many transactions to return.", examples=[50])
    ] = 50,
) -> RecentAnomalies:
    """Scores every stored transaction of the window in batches, with the live model, and
    counts the flagged ones per day."""
    if days > settings.ANOMALY_RECENT_MAX_DAYS:
        raise InvalidInput(
            f"Query parameter 'days': at most {settings.ANOMALY_RECENT_MAX_DAYS} days "
            f"(ANOMALY_RECENT_MAX_DAYS) can be scored, got {days}."
        )
    return await service.recent(days, limit)


@router.get("/status", summary="Anomaly detection model status", response_model=AnomalyStatus)
async def status(service: ServiceDep) -> AnomalyStatus:
    return service.status()
