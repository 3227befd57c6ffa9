"""The service's own routes: the welcome message and the status the platform reads."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.config import APP_NAME, APP_VERSION
from app.core.http import (
    READ_RESPONSES,
    DatabaseDep,
    ReadAccess,
    RegistryDep,
    SettingsDep,
    open_warnings,
)
from app.core.lifecycle import NEVER
from app.core.names import ModelName, ModelState
from app.core.schemas import STATES_EXAMPLE


class RootResponse(BaseModel):
    message: str = Field(examples=["Welcome to the Adaptive BI AI Service!"])
    version: str = Field(examples=["2.0.0"])
    ui: str = Field(
        default="/ui",
        examples=["/ui"],
        description="The analysts' page: each model's answers and whether to trust them.",
    )
    docs: str = Field(default="/docs", examples=["/docs"], description="This API's documentation.")


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
        examples=[STATES_EXAMPLE], description="State of each model."
    )
    warnings: list[str] = Field(
        default=[],
        examples=[[]],
        description="What in the settings leaves the service open to its network (no "
        "API_KEYS with a bind beyond loopback, ALLOWED_HOSTS=*), as logged at start-up; empty "
        "when nothing is.",
    )
    forecast_served: str | None = Field(
        default=None,
        examples=[
            "The median of ETS, Theta, ARIMA, the 28-day weekday mean and a weekday profile times "
            "a damped level and trend, the best 5 of 7 methods over 12 origins, MASE 0.71 at 7 "
            "days and 0.80 at 28 against seasonal naive's 1.00 and 1.05."
        ],
        description="The forecast served and why (as `/api/v1/forecast/status`'s "
        "`explanation`); null before the first forecast model.",
    )
    model_errors: dict[ModelName, str] = Field(
        default_factory=dict,
        examples=[{}],
        description="Why a model's last training failed, for each model whose did (as its "
        "status's `last_error`): a model that could not be saved, for one, is not served, and "
        "the version every process serves stays.",
    )


router = APIRouter(tags=["Service"])


@router.get("/", summary="Welcome message and version", response_model=RootResponse)
async def root() -> RootResponse:
    return RootResponse(message=f"Welcome to the {APP_NAME}!", version=APP_VERSION)


@router.get(
    "/status",
    summary="Service status for the platform",
    response_model=ServiceStatus,
    dependencies=[ReadAccess],
    responses=READ_RESPONSES,
)
async def service_status(
    settings: SettingsDep, database: DatabaseDep, registry: RegistryDep
) -> ServiceStatus:
    """Database connection as of the last ping (every DB_WATCH_INTERVAL_SECONDS) and models."""
    states = registry.states()
    trained = {name: registry.live_or_none(name) is not None for name in states}
    return ServiceStatus(
        status="running",
        app_name=APP_NAME,
        app_version=APP_VERSION,
        debug_mode=settings.AI_SERVICE_DEBUG,
        database_connected=database.connected,
        models_loaded=all(trained.values()),
        forecasting_model_trained=trained["forecast"],
        anomaly_model_trained=trained["anomaly"],
        recommendation_model_trained=trained["recommend"],
        last_retrain_time=registry.last_retrain_time or NEVER,
        models=states,
        warnings=open_warnings(settings),
        forecast_served=getattr(registry.live_or_none("forecast"), "explanation", None),
        model_errors={
            name: error for name in states if (error := registry.describe(name).last_error)
        },
    )
