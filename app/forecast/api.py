"""Forecast routes: validate, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.config import MAX_FORECAST_HORIZON
from app.core.dependencies import from_state
from app.core.schemas import ERROR_RESPONSES
from app.forecast.schemas import ForecastResponse, ForecastStatus
from app.forecast.service import ForecastService

ServiceDep = Annotated[ForecastService, Depends(from_state("forecast", ForecastService))]
router = APIRouter(prefix="/api/v1/forecast", tags=["Forecasting"])
Level = Annotated[
    int,
    Query(ge=50, le=99, description="Coverage of the intervals, in % (50..99).", examples=[80]),
]
Horizon = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_FORECAST_HORIZON,
        description="Days to forecast, from today (UTC); default FORECAST_HORIZON (7).",
        examples=[7],
    ),
]


@router.get(
    "/predict",
    summary="Forecast daily sales for the next N days",
    response_model=ForecastResponse,
    responses=ERROR_RESPONSES,
)
async def predict(
    service: ServiceDep, horizon: Horizon = None, level: Level = 80
) -> ForecastResponse:
    """The served method's daily forecast with `level` % intervals calibrated on its backtest
    errors (conformal), and its backtest MASE."""
    return await service.predict(horizon, level)


@router.get("/status", summary="Forecasting model status", response_model=ForecastStatus)
async def status(service: ServiceDep) -> ForecastStatus:
    return service.status()
