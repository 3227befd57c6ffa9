from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.dependencies import DatabaseDep, ModelManagerDep
from app.api.schemas.service import DetailedHealth, LivenessResponse

router = APIRouter(prefix="/api/v1/health", tags=["Health"])

_MODEL_KEYS = {
    "forecast": "forecasting_model",
    "anomaly": "anomaly_detection_model",
    "recommend": "recommendation_model",
}


@router.get("/", summary="Liveness: the process answers", response_model=LivenessResponse)
async def liveness() -> LivenessResponse:
    """Touches neither the database nor the models, so it answers at once, even while training."""
    return LivenessResponse(status="ok", message="AI service is running")


@router.get(
    "/detailed",
    summary="Database ping and model states",
    response_model=DetailedHealth,
    responses={503: {"model": DetailedHealth, "description": "Not healthy: same body."}},
)
async def detailed(database: DatabaseDep, manager: ModelManagerDep) -> JSONResponse:
    """200 when MongoDB answers and every model is trained; 503 with the same body otherwise."""
    connected = await database.ping()
    states = {_MODEL_KEYS[name]: slot.state for name, slot in manager.slots.items()}
    untrained = [key for key, state in states.items() if state != "trained"]
    if not connected:
        status, message = "unhealthy", "MongoDB is unreachable; the service retries by itself."
    elif untrained:
        status, message = "degraded", f"Not trained yet: {', '.join(untrained)}."
    else:
        status, message = "healthy", "All systems nominal."
    body = DetailedHealth(
        status=status,
        timestamp=datetime.now(UTC),
        database_status="connected" if connected else "disconnected",
        models_status=states,
        message=message,
    )
    return JSONResponse(
        status_code=200 if status == "healthy" else 503, content=body.model_dump(mode="json")
    )
