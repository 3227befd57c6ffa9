"""The forecast's use cases: what training reads, and a prediction from the live model."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from app.core.capability import ModelService
from app.core.registry import TrainingData
from app.forecast.queries import daily_sales
from app.forecast.schemas import ForecastPoint, ForecastResponse, ForecastStatus

if TYPE_CHECKING:  # the ML modules load with the first model, after the API answers
    from app.forecast.model import ForecastModel


def start_of_day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class ForecastService(ModelService):
    name = "forecast"
    FIT = "app.forecast.model:train_forecaster"  # run in the worker process
    MODEL_TYPE_SETTING = "FORECAST_MODEL_TYPE"

    async def read(self, now: datetime) -> TrainingData:
        """Complete UTC days of the collection window; today is still filling up, so left out."""
        end = start_of_day(now)
        start = end - timedelta(days=self._settings.DATA_COLLECTION_DAYS)
        series = await daily_sales(self._db, self._settings, start, end)
        return TrainingData((series, self._settings.FORECAST_MODEL_TYPE), len(series), start, end)

    async def predict(self, horizon: int | None) -> ForecastResponse:
        """Forecasts from today (UTC), whose sales are not complete yet, for `horizon` days."""
        import pandas as pd  # loaded with the model already

        days = horizon or self._settings.FORECAST_HORIZON
        model = cast("ForecastModel", self._registry.live("forecast"))
        today = pd.Timestamp(self._clock().astimezone(UTC).date())
        first_day = max(today, model.last_day + pd.Timedelta(days=1))
        predicted = await asyncio.to_thread(model.forecast, first_day, days)
        return ForecastResponse(
            message=f"Sales forecast for the next {days} days, from "
            f"{first_day.date()}, based on sales up to {model.last_day.date()}.",
            forecast=[
                ForecastPoint(date=day.date(), predicted_sales=round(float(value), 2))
                for day, value in predicted.items()
            ],
            model_type=model.model_type,
            history_end=model.last_day.date(),
        )

    def status(self) -> ForecastStatus:
        return ForecastStatus(
            **self._registry.describe("forecast").model_dump(),
            forecast_horizon_default=self._settings.FORECAST_HORIZON,
        )
