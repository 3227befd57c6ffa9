from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class RootResponse(BaseModel):
    message: str
    version: str


class LivenessResponse(BaseModel):
    status: str = Field(examples=["ok"])
    message: str


class DetailedHealth(BaseModel):
    status: str = Field(examples=["healthy"], description="healthy, degraded or unhealthy")
    timestamp: datetime
    database_status: str = Field(examples=["connected"])
    models_status: dict[str, str]
    message: str


class ServiceStatus(BaseModel):
    status: str
    app_name: str
    app_version: str
    debug_mode: bool
    database_connected: bool
    models_loaded: bool
    forecasting_model_trained: bool
    anomaly_model_trained: bool
    recommendation_model_trained: bool
    last_retrain_time: datetime | Literal["N/A"] = Field(description="N/A before any training.")
    models: dict[str, str] = Field(description="State of each model.")
