from fastapi import APIRouter

from app.api.dependencies import ModelManagerDep, SettingsDep
from app.api.schemas.anomaly import AnomalyDetectionRequest, AnomalyResult, AnomalyStatus
from app.api.schemas.common import ERROR_RESPONSES, TRAIN_ERROR_RESPONSES, TrainResponse
from app.services.inference import detect_anomalies

router = APIRouter(prefix="/api/v1/anomaly", tags=["Anomaly Detection"])


@router.post(
    "/train",
    summary="Train the anomaly detection model now",
    response_model=TrainResponse,
    responses=TRAIN_ERROR_RESPONSES,
)
async def train_anomaly_model(manager: ModelManagerDep) -> TrainResponse:
    """Fits on a random sample (ANOMALY_SAMPLE_SIZE) of recent transactions."""
    return TrainResponse.from_metadata("anomaly", await manager.train("anomaly"))


@router.post(
    "/detect",
    summary="Score transactions for anomalies",
    response_model=list[AnomalyResult],
    responses=ERROR_RESPONSES,
)
async def detect(request: AnomalyDetectionRequest, manager: ModelManagerDep) -> list[dict]:
    """One result per data point, in order; an empty `data_points` list returns `[]`."""
    return await detect_anomalies(manager, request.data_points, request.features)


@router.get("/status", summary="Anomaly detection model status", response_model=AnomalyStatus)
async def anomaly_status(manager: ModelManagerDep, settings: SettingsDep) -> AnomalyStatus:
    model = manager.slots["anomaly"].model
    contamination = model.contamination if model is not None else settings.ANOMALY_THRESHOLD
    return AnomalyStatus(**manager.status("anomaly"), contamination_threshold=contamination)
