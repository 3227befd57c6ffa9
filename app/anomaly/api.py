"""Anomaly detection routes: validate, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.anomaly.schemas import AnomalyDetectionRequest, AnomalyResult, AnomalyStatus
from app.anomaly.service import AnomalyService
from app.core.schemas import ERROR_RESPONSES, TRAIN_ERROR_RESPONSES, TrainResponse


def _service(request: Request) -> AnomalyService:
    service: AnomalyService = request.state.anomaly
    return service


ServiceDep = Annotated[AnomalyService, Depends(_service)]
router = APIRouter(prefix="/api/v1/anomaly", tags=["Anomaly Detection"])


@router.post(
    "/train",
    summary="Train the anomaly detection model now",
    response_model=TrainResponse,
    responses=TRAIN_ERROR_RESPONSES,
)
async def train(service: ServiceDep) -> TrainResponse:
    """Fits on a random sample (ANOMALY_SAMPLE_SIZE) of recent transactions."""
    return await service.train()


@router.post(
    "/detect",
    summary="Score transactions for anomalies",
    response_model=list[AnomalyResult],
    responses=ERROR_RESPONSES,
)
async def detect(request: AnomalyDetectionRequest, service: ServiceDep) -> list[AnomalyResult]:
    """One result per data point, in order; an empty `data_points` list returns `[]`."""
    return await service.detect(request.data_points, request.features)


@router.get("/status", summary="Anomaly detection model status", response_model=AnomalyStatus)
async def status(service: ServiceDep) -> AnomalyStatus:
    return service.status()
