"""Forecast routes: validate, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.config import MAX_FORECAST_HORIZON
from app.core.http import from_state, json_answer
from app.core.schemas import ERROR_RESPONSES, SERVED_BY_A_MODEL, error_response
from app.forecast.schemas import CategoriesResponse, ForecastResponse, ForecastStatus
from app.forecast.service import ForecastService

ServiceDep = Annotated[ForecastService, Depends(from_state("forecast", ForecastService))]
UNKNOWN_CATEGORY = error_response(
    "The category has no forecast.",
    "Unknown category 'Electronic'; the categories with a forecast are: Books, Electronics.",
)
router = APIRouter(prefix="/api/v1/forecast", tags=["Forecasting"], responses=SERVED_BY_A_MODEL)
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
Category = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        description="A product category (see `/api/v1/forecast/categories`); omit it for the "
        "shop's total sales.",
        examples=["Electronics"],
    ),
]


@router.get(
    "/predict",
    summary="Forecast daily sales for the next N days",
    response_model=ForecastResponse,
    responses={**ERROR_RESPONSES, 404: UNKNOWN_CATEGORY},
)
async def predict(
    service: ServiceDep, horizon: Horizon = None, level: Level = 80, category: Category = None
) -> Response:
    """The served method's daily forecast, of total sales or of one category's, with `level` %
    intervals calibrated on its backtest errors (conformal), and its backtest MASE."""
    return json_answer(await service.predict_json(horizon, level, category))


@router.get(
    "/categories",
    summary="Categories with a forecast of their own",
    response_model=CategoriesResponse,
    responses={503: ERROR_RESPONSES[503]},
)
async def categories(service: ServiceDep) -> CategoriesResponse:
    """Each category's served method and backtest MASE against seasonal naive's."""
    return service.categories()


@router.get("/status", summary="Forecasting model status", response_model=ForecastStatus)
async def status(service: ServiceDep) -> ForecastStatus:
    return service.status()
