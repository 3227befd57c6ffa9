"""The forecast's use cases: what training reads, and a prediction from the live model."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from app.core.lifecycle import FitReference, ModelService, TrainingData
from app.errors import NotFound, brief
from app.forecast.inputs import ForecastInput
from app.forecast.queries import ForecastQueries
from app.forecast.schemas import (
    BacktestMase,
    CategoriesResponse,
    CategoryForecaster,
    DaySales,
    ForecastPoint,
    ForecastResponse,
    ForecastStatus,
    RecentSales,
)

if TYPE_CHECKING:  # the ML modules load with the first model, after the API answers
    import pandas as pd

    from app.forecast.model import Forecasters, ForecastModel


_ANSWERS_KEPT = 512  # serialized forecasts kept; all are dropped when more are asked


@dataclass
class _Kept:
    """The serialized answers of one model (the live one), by question."""

    model: object = None
    answers: dict[tuple[str | None, date, int, int], bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class _Question:
    """What a forecast request asks, resolved against the live model."""

    model: "ForecastModel"
    version: str | None
    category: str | None  # as the model names it
    first_day: "pd.Timestamp"
    days: int
    level: int


def start_of_day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class ForecastService(ModelService[ForecastInput, "Forecasters"]):
    name = "forecast"
    MODEL_TYPE_SETTING = "FORECAST_MODEL_TYPE"

    fit = FitReference[ForecastInput, "Forecasters"]("app.forecast.model:fit_model")

    @cached_property
    def _queries(self) -> ForecastQueries:
        return ForecastQueries(self._db, self._settings)

    async def read(self, now: datetime) -> TrainingData[ForecastInput]:
        """Complete UTC days of the collection window, in total and per category; today is
        still filling up, so left out."""
        s = self._settings
        end = start_of_day(now)
        start = end - timedelta(days=s.DATA_COLLECTION_DAYS)
        rollup = await self._queries.update_rollup(start, end)
        total, categories = await self._queries.daily_sales(start, end)
        data = ForecastInput(total, categories, s.FORECAST_MODEL_TYPE, s.FORECAST_MAX_CATEGORIES)
        timings = {"rollup_seconds": rollup.seconds, "rollup_rows": float(rollup.written)}
        return TrainingData(data, len(total), start, end, timings)

    async def forget_rollups(self) -> None:
        await self._queries.forget_rollup()

    async def predict(
        self, horizon: int | None, level: int, category: str | None = None
    ) -> ForecastResponse:
        """Forecasts total sales, or a category's, from today (UTC), whose sales are not
        complete yet, for `horizon` days."""
        forecasters, version = self._live()
        return await self._answer(self._question(forecasters, version, horizon, level, category))

    async def predict_json(
        self, horizon: int | None, level: int, category: str | None = None
    ) -> bytes:
        """`predict`'s answer serialized, kept for the live model by question (the category as
        asked, today, days, level): a cached forecast is a dictionary read, with nothing
        computed, validated or serialized again."""
        forecasters, version = self._live()
        kept = self._kept
        if kept.model is not forecasters:
            kept.model, kept.answers = forecasters, {}
        days = horizon or self._settings.FORECAST_HORIZON
        key = (category, self._clock().astimezone(UTC).date(), days, level)
        answer = kept.answers.get(key)
        if answer is None:
            question = self._question(forecasters, version, horizon, level, category)
            answer = (await self._answer(question)).model_dump_json().encode()
            if kept.model is forecasters:  # not replaced meanwhile
                if len(kept.answers) >= _ANSWERS_KEPT:
                    kept.answers.clear()
                kept.answers[key] = answer
        return answer

    @cached_property
    def _kept(self) -> "_Kept":
        return _Kept()

    def _question(
        self,
        forecasters: "Forecasters",
        version: str | None,
        horizon: int | None,
        level: int,
        category: str | None,
    ) -> "_Question":
        import pandas as pd  # loaded with the model already

        model, category = _forecaster_of(forecasters, category)
        today = pd.Timestamp(self._clock().astimezone(UTC).date())
        first_day = max(today, model.last_day + pd.Timedelta(days=1))
        days = horizon or self._settings.FORECAST_HORIZON
        return _Question(model, version, category, first_day, days, level)

    async def _answer(self, question: "_Question") -> ForecastResponse:
        model, first_day, days, level = (
            question.model,
            question.first_day,
            question.days,
            question.level,
        )
        if model.computed(first_day):
            predicted = model.forecast(first_day, days, level)
        else:
            predicted = await asyncio.to_thread(model.forecast, first_day, days, level)
        category = question.category
        sales = f"{category} sales" if category else "Sales"
        message = (
            f"{sales} forecast for the next {days} days, from {first_day.date()}, based on sales "
            f"up to {model.last_day.date()}, with {level} % intervals."
        )
        return ForecastResponse(
            message=f"{message} {model.note}" if model.note else message,
            forecast=[
                ForecastPoint(
                    date=day.date(),
                    predicted_sales=round(point, 2),
                    lower=round(lower, 2),
                    upper=round(upper, 2),
                )
                for day, point, lower, upper in zip(
                    predicted.index,
                    predicted["predicted"].tolist(),
                    predicted["lower"].tolist(),
                    predicted["upper"].tolist(),
                    strict=True,
                )
            ],
            level=level,
            model_type=model.served,
            model_version=question.version,
            backtest_mase=BacktestMase(
                h7=model.metrics.get("mase_h7"), h28=model.metrics.get("mase_h28")
            ),
            history_end=model.last_day.date(),
            category=category,
        )

    def recent_sales(self, category: str | None = None) -> RecentSales:
        """The actual daily sales at the end of the live forecaster's training series, the
        total's or a category's, and its backtest: read from the model, not the database."""
        model, category = _forecaster_of(self._model(), category)
        return RecentSales(
            category=category,
            sales=[
                DaySales(date=day.date(), sales=round(float(value), 2))
                for day, value in model.recent.items()
            ],
            backtest=model.backtest,
            served=model.served,
            explanation=model.explanation,
            runner_up=model.runner_up,
        )

    def categories(self) -> CategoriesResponse:
        """The categories with a forecaster, largest sales first, with their backtest MASE."""
        forecasters, version = self._live()
        return CategoriesResponse(
            categories=[
                CategoryForecaster(
                    category=name,
                    served=model.served,
                    mase_h7=model.metrics.get("mase_h7"),
                    mase_h28=model.metrics.get("mase_h28"),
                    seasonal_naive_mase_h7=model.metrics.get("seasonal_naive_mase_h7"),
                    seasonal_naive_mase_h28=model.metrics.get("seasonal_naive_mase_h28"),
                    note=model.note,
                    explanation=model.explanation,
                )
                for name, model in forecasters.categories.items()
            ],
            skipped=forecasters.skipped,
            model_version=version,
        )

    def status(self) -> ForecastStatus:
        forecasters = self._live_or_none()
        model = forecasters.total if forecasters is not None else None
        return ForecastStatus(
            **self._described().model_dump(),
            forecast_horizon_default=self._settings.FORECAST_HORIZON,
            served=model.served if model is not None else None,
            backtest=model.backtest if model is not None else {},
            members=list(model.members) if model is not None else [],
            explanation=model.explanation if model is not None else None,
            runner_up=model.runner_up if model is not None else None,
            categories=list(forecasters.categories) if forecasters is not None else [],
        )


def _forecaster_of(
    forecasters: "Forecasters", category: str | None
) -> tuple["ForecastModel", str | None]:
    """The total's forecaster, or the named category's (case does not matter), with the
    category's stored name; an unknown category is a 404 that lists the known ones."""
    if category is None:
        return forecasters.total, None
    known = {name.casefold(): name for name in forecasters.categories}
    name = known.get(category.strip().casefold())
    if name is not None:
        return forecasters.categories[name], name
    skipped = {name.casefold(): reason for name, reason in forecasters.skipped.items()}
    reason = skipped.get(category.strip().casefold())
    if reason is not None:
        raise NotFound(f"Category {brief(category)} has no forecast: {reason}")
    listed = ", ".join(sorted(forecasters.categories)) or "none yet"
    raise NotFound(
        f"Unknown category {brief(category)}; the categories with a forecast are: {listed}."
    )
