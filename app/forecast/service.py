"""The forecast's use cases: what training reads, and a prediction from the live model."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from app.core.capability import ModelService
from app.core.registry import TrainingData
from app.forecast.queries import daily_sales
from app.forecast.schemas import BacktestMase, ForecastPoint, ForecastResponse, ForecastStatus

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
        return TrainingData((series, self.model_type), len(series), start, end)

    async def predict(self, horizon: int | None, level: int) -> ForecastResponse:
        """Forecasts from today (UTC), whose sales are not complete yet, for `horizon` days."""
        import pandas as pd  # loaded with the model already

        days = horizon or self._settings.FORECAST_HORIZON
        model = cast("ForecastModel", self._registry.live("forecast"))
        today = pd.Timestamp(self._clock().astimezone(UTC).date())
        first_day = max(today, model.last_day + pd.Timedelta(days=1))
        described = self._registry.describe("forecast")  # this model's, before any await
        predicted = await asyncio.to_thread(model.forecast, first_day, days, level)
        message = (
            f"Sales forecast for the next {days} days, from {first_day.date()}, based on sales "
            f"up to {model.last_day.date()}, with {level} % intervals."
        )
        return ForecastResponse(
            message=f"{message} {model.note}" if model.note else message,
            forecast=[
                ForecastPoint(
                    date=day.date(),
                    predicted_sales=round(float(row.predicted), 2),
                    lower=round(float(row.lower), 2),
                    upper=round(float(row.upper), 2),
                )
                for day, row in predicted.iterrows()
            ],
            level=level,
            model_type=model.served,
            model_version=described.last_retrain_time,
            backtest_mase=BacktestMase(
                h7=model.metrics.get("mase_h7"), h28=model.metrics.get("mase_h28")
            ),
            history_end=model.last_day.date(),
        )

    def status(self) -> ForecastStatus:
        model = cast("ForecastModel | None", self._registry.live_or_none("forecast"))
        return ForecastStatus(
            **self._registry.describe("forecast").model_dump(),
            forecast_horizon_default=self._settings.FORECAST_HORIZON,
            served=model.served if model is not None else None,
            backtest=model.backtest if model is not None else {},
        )
