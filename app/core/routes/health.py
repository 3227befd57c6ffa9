"""Health routes: liveness without touching anything, and a detailed check for operators."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.core.http import ClockDep, DatabaseDep, RegistryDep
from app.core.names import ModelName, ModelState
from app.core.schemas import STATES_EXAMPLE


class LivenessResponse(BaseModel):
    status: Literal["ok"] = Field(examples=["ok"])
    message: str = Field(examples=["AI service is running"])


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"] = Field(examples=["ready"])
    models: dict[ModelName, ModelState] = Field(
        examples=[STATES_EXAMPLE], description="State of each model."
    )
    missing: list[ModelName] = Field(
        examples=[["recommend"]], description="Models with nothing live to answer with."
    )
    database_connected: bool = Field(
        examples=[True],
        description="As of the last ping; for information: models answer without MongoDB, so "
        "readiness does not depend on it.",
    )
    message: str = Field(examples=["Every model is live."])


class DetailedHealth(BaseModel):
    status: Literal["healthy", "degraded", "unhealthy"] = Field(examples=["healthy"])
    timestamp: datetime = Field(examples=["2026-11-25T18:00:00Z"])
    database_status: Literal["connected", "disconnected"] = Field(examples=["connected"])
    models_status: dict[str, ModelState] = Field(
        examples=[{"forecasting_model": "trained", "anomaly_detection_model": "trained"}]
    )
    message: str = Field(examples=["All systems nominal."])


router = APIRouter(prefix="/api/v1/health", tags=["Health"])

_MODEL_KEYS: dict[ModelName, str] = {
    "forecast": "forecasting_model",
    "anomaly": "anomaly_detection_model",
    "recommend": "recommendation_model",
}


@router.get("/", summary="Liveness: the process answers", response_model=LivenessResponse)
async def liveness() -> LivenessResponse:
    """Touches neither the database nor the models, so it answers at once, even while training."""
    return LivenessResponse(status="ok", message="AI service is running")


router.add_api_route(
    "/live",
    liveness,
    name="live",
    summary="Liveness probe (Kubernetes, compose): the process answers",
    response_model=LivenessResponse,
)


@router.get(
    "/ready",
    summary="Readiness probe: every model is live, so this instance can serve",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "Not ready: same body, saying what is missing.",
            "content": {
                "application/json": {
                    "example": {
                        "status": "not_ready",
                        "models": {"forecast": "trained", "anomaly": "loading"},
                        "missing": ["anomaly"],
                        "database_connected": True,
                        "message": "Not ready: the saved models are still being loaded; "
                        "nothing live yet for anomaly (loading).",
                    }
                }
            },
        }
    },
)
async def ready(database: DatabaseDep, registry: RegistryDep) -> JSONResponse:
    """200 once start-up loading is over and every model is live; 503 with the same body,
    saying what is missing, otherwise. MongoDB's state is shown but not required: the models
    answer without it, and a probe failing on a database outage would take every replica out
    of the load balancer at once."""
    states = registry.states()
    missing = [name for name in states if registry.live_or_none(name) is None]
    reasons = []
    if not registry.loaded:
        reasons.append("the saved models are still being loaded")
    if missing:
        listed = ", ".join(f"{name} ({states[name]})" for name in missing)
        reasons.append(f"nothing live yet for {listed}")
    body = Readiness(
        status="not_ready" if reasons else "ready",
        models=states,
        missing=missing,
        database_connected=database.connected,
        message=f"Not ready: {'; '.join(reasons)}." if reasons else "Every model is live.",
    )
    return JSONResponse(status_code=503 if reasons else 200, content=body.model_dump(mode="json"))


@router.get(
    "/detailed",
    summary="Database ping and model states",
    response_model=DetailedHealth,
    responses={
        503: {
            "model": DetailedHealth,
            "description": "Not healthy: same body.",
            "content": {
                "application/json": {
                    "example": {
                        "status": "unhealthy",
                        "timestamp": "2026-11-25T18:00:00Z",
                        "database_status": "disconnected",
                        "models_status": {"forecasting_model": "trained"},
                        "message": "MongoDB is unreachable; the service retries by itself.",
                    }
                }
            },
        }
    },
)
async def detailed(database: DatabaseDep, registry: RegistryDep, clock: ClockDep) -> JSONResponse:
    """200 when MongoDB answers and every model is trained; 503 with the same body otherwise."""
    connected = await database.ping()
    states = {_MODEL_KEYS[name]: state for name, state in registry.states().items()}
    untrained = [key for key, state in states.items() if state != "trained"]
    body = DetailedHealth(
        status="healthy",
        timestamp=clock(),
        database_status="connected" if connected else "disconnected",
        models_status=states,
        message="All systems nominal.",
    )
    if not connected:
        body.status = "unhealthy"
        body.message = "MongoDB is unreachable; the service retries by itself."
    elif untrained:
        body.status = "degraded"
        body.message = f"Not trained yet: {', '.join(untrained)}."
    return JSONResponse(
        status_code=200 if body.status == "healthy" else 503, content=body.model_dump(mode="json")
    )
