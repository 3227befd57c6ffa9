"""What the service and health routes answer."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.core.names import ModelName, ModelState

_STATES_EXAMPLE = {"forecast": "trained", "anomaly": "trained", "recommend": "training"}


class RootResponse(BaseModel):
    message: str = Field(examples=["Welcome to the Adaptive BI AI Service!"])
    version: str = Field(examples=["2.0.0"])
    ui: str = Field(
        default="/ui",
        examples=["/ui"],
        description="The analysts' page: each model's answers and whether to trust them.",
    )
    docs: str = Field(default="/docs", examples=["/docs"], description="This API's documentation.")


class LivenessResponse(BaseModel):
    status: Literal["ok"] = Field(examples=["ok"])
    message: str = Field(examples=["AI service is running"])


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"] = Field(examples=["ready"])
    models: dict[ModelName, ModelState] = Field(
        examples=[_STATES_EXAMPLE], description="State of each model."
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


class ServiceStatus(BaseModel):
    status: Literal["running"] = Field(examples=["running"])
    app_name: str = Field(examples=["Adaptive BI AI Service"])
    app_version: str = Field(examples=["2.0.0"])
    debug_mode: bool = Field(examples=[False])
    database_connected: bool = Field(examples=[True])
    models_loaded: bool = Field(examples=[True], description="Every model is trained.")
    forecasting_model_trained: bool = Field(examples=[True])
    anomaly_model_trained: bool = Field(examples=[True])
    recommendation_model_trained: bool = Field(examples=[True])
    last_retrain_time: datetime | Literal["N/A"] = Field(
        examples=["2026-11-25T18:00:00Z"], description="N/A before any training."
    )
    models: dict[ModelName, ModelState] = Field(
        examples=[_STATES_EXAMPLE], description="State of each model."
    )
