"""What the forecast routes answer."""

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from app.core.schemas import ModelStatus, served_version_field


class ForecastPoint(BaseModel):
    date: dt.date = Field(examples=["2026-11-26"])
    predicted_sales: float = Field(examples=[15234.5], description="Forecast sales of the UTC day.")
    lower: float = Field(examples=[12100.0], description="Lower end of the `level` % interval.")
    upper: float = Field(examples=[18320.0], description="Upper end of the `level` % interval.")


class BacktestMase(BaseModel):
    """The served model's mean absolute scaled error in the training's backtest: below 1 beats
    "the same weekday last week"."""

    h7: float | None = Field(examples=[0.82], description="Over the first 7 days ahead.")
    h28: float | None = Field(examples=[0.91], description="Over the first 28 days ahead.")


class ForecastResponse(BaseModel):
    message: str = Field(examples=["Sales forecast for the next 7 days."])
    forecast: list[ForecastPoint] = Field(
        examples=[
            [{"date": "2026-11-26", "predicted_sales": 15234.5, "lower": 12100.0, "upper": 18320.0}]
        ],
        description="One point per day, from the first day forecast on.",
    )
    level: int = Field(examples=[80], description="Coverage aimed at by the intervals, in %.")
    model_type: str = Field(examples=["ensemble"], description="The method served.")
    model_version: str | None = served_version_field()
    backtest_mase: BacktestMase = Field(examples=[{"h7": 0.82, "h28": 0.91}])
    history_end: dt.date = Field(
        examples=["2026-11-24"], description="Last complete day of sales the model has seen."
    )
    category: str | None = Field(
        default=None,
        examples=["Electronics"],
        description="The product category forecast; null for the shop's total sales.",
    )


EXPLANATION_EXAMPLE = (
    "The median of ETS, Theta, ARIMA, the 28-day weekday mean and a weekday profile times a "
    "damped level and trend, the best 5 of 7 methods over 12 origins, MASE 0.71 at 7 days and "
    "0.80 at 28 against seasonal naive's 1.00 and 1.05."
)


def explanation_field() -> Any:
    return Field(
        default=None,
        examples=[EXPLANATION_EXAMPLE],
        description="What is served and why, in a sentence: for `auto`, the methods chosen from "
        "the backtest; a method that scored better in the table is named with the reason it is "
        "not served.",
    )


def runner_up_field() -> Any:
    return Field(
        default=None,
        examples=["ETS"],
        description="The backtest table's best row besides the served one.",
    )


class ForecastStatus(ModelStatus):
    forecast_horizon_default: int = Field(examples=[7])
    served: str | None = Field(
        examples=["auto"],
        description="The method served: the configured one (`auto`: chosen per series) or a "
        "fallback.",
    )
    members: list[str] = Field(
        default_factory=list,
        examples=[["ETS", "Theta", "ProfileTrend"]],
        description="For `auto`, the methods whose median is served.",
    )
    explanation: str | None = explanation_field()
    runner_up: str | None = runner_up_field()
    backtest: dict[str, dict[str, float]] = Field(
        examples=[{"seasonal_naive": {"mase_h7": 1.0, "mase_h28": 1.1}}],
        description="Every candidate's rolling-origin backtest: MAE, RMSE, MASE, WAPE and bias "
        "at 7 and 28 days ahead.",
    )
    categories: list[str] = Field(
        default_factory=list,
        examples=[["Electronics", "Books"]],
        description="The categories with a forecast of their own, most sales first.",
    )


class CategoryForecaster(BaseModel):
    """One category's forecaster and how it did in its backtest."""

    category: str = Field(examples=["Electronics"])
    served: str = Field(examples=["ensemble"], description="The method served for it.")
    mase_h7: float | None = Field(examples=[0.84], description="Backtest MASE, days 1-7.")
    mase_h28: float | None = Field(examples=[0.9], description="Backtest MASE, days 1-28.")
    seasonal_naive_mase_h7: float | None = Field(
        examples=[1.02], description="Seasonal naive's MASE on the same origins, days 1-7."
    )
    seasonal_naive_mase_h28: float | None = Field(
        examples=[1.1], description="Seasonal naive's MASE on the same origins, days 1-28."
    )
    note: str | None = Field(
        examples=[None], description="Why a simpler method is served, or why there is no band."
    )
    explanation: str | None = explanation_field()


class CategoriesResponse(BaseModel):
    categories: list[CategoryForecaster] = Field(
        examples=[
            [
                {
                    "category": "Electronics",
                    "served": "ensemble",
                    "mase_h7": 0.84,
                    "mase_h28": 0.9,
                    "seasonal_naive_mase_h7": 1.02,
                    "seasonal_naive_mase_h28": 1.1,
                    "note": None,
                    "explanation": EXPLANATION_EXAMPLE,
                }
            ]
        ],
        description="Categories with a forecast, most sales first: pass one as `category` to "
        "`/api/v1/forecast/predict`.",
    )
    skipped: dict[str, str] = Field(
        examples=[{"Gift Cards": "Forecasting needs at least 7 days of history; found 3."}],
        description="Categories with sales but no forecast, and why.",
    )
    model_version: str | None = served_version_field()


class DaySales(BaseModel):
    date: dt.date = Field(examples=["2026-11-24"])
    sales: float = Field(examples=[14872.3], description="Actual sales of the UTC day.")


class RecentSales(BaseModel):
    """What a forecaster was trained on, at its end, and how it did in its backtest."""

    category: str | None = Field(
        examples=["Electronics"], description="The category; null for the shop's total sales."
    )
    sales: list[DaySales] = Field(
        examples=[[{"date": "2026-11-24", "sales": 14872.3}]],
        description="The last 8 weeks of the training series, up to `history_end`.",
    )
    backtest: dict[str, dict[str, float]] = Field(
        examples=[{"seasonal_naive": {"mase_h7": 1.0}, "ensemble": {"mase_h7": 0.82}}],
        description="Its backtest table: every candidate for the total, seasonal naive and the "
        "served method for a category.",
    )
    served: str = Field(examples=["auto"], description="The method served.")
    explanation: str | None = explanation_field()
    runner_up: str | None = runner_up_field()
