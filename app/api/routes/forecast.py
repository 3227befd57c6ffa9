from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.dependencies import ModelManagerDep, SettingsDep
from app.api.schemas.common import ERROR_RESPONSES, TRAIN_ERROR_RESPONSES, TrainResponse
from app.api.schemas.forecast import ForecastResponse, ForecastStatus
from app.config import MAX_FORECAST_HORIZON
from app.services.inference import forecast_sales

router = APIRouter(prefix="/api/v1/forecast", tags=["Forecasting"])


@router.post(
    "/train",
    summary="Train the sales forecasting model now",
    response_model=TrainResponse,
    responses=TRAIN_ERROR_RESPONSES,
)
async def train_forecast_model(manager: ModelManagerDep) -> TrainResponse:
    """Reads daily sales of the last DATA_COLLECTION_DAYS days and fits the model; a request
    made while it trains waits for that training and gets its result."""
    return TrainResponse.from_metadata("forecast", await manager.train("forecast"))


@router.get(
    "/predict",
    summary="Forecast daily sales for the next N days",
    response_model=ForecastResponse,
    responses=ERROR_RESPONSES,
)
async def predict_sales(
    manager: ModelManagerDep,
    settings: SettingsDep,
    horizon: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_FORECAST_HORIZON,
            description="Days to forecast, from today (UTC); default 7.",
        ),
    ] = None,
) -> dict[str, object]:
    """Each forecast day feeds the lags and rolling windows of the next (recursive forecast)."""
    days = horizon or settings.FORECAST_HORIZON
    return await forecast_sales(manager, days, datetime.now(UTC))


@router.get("/status", summary="Forecasting model status", response_model=ForecastStatus)
async def forecast_status(manager: ModelManagerDep, settings: SettingsDep) -> ForecastStatus:
    return ForecastStatus(
        **manager.status("forecast"), forecast_horizon_default=settings.FORECAST_HORIZON
    )
