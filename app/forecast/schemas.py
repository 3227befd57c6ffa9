"""What the forecast routes answer."""

import datetime as dt
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.core.schemas import ModelStatus


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
    model_version: datetime | Literal["N/A"] = Field(
        examples=["2026-11-25T18:00:00Z"], description="When the served model was trained."
    )
    backtest_mase: BacktestMase = Field(examples=[{"h7": 0.82, "h28": 0.91}])
    history_end: dt.date = Field(
        examples=["2026-11-24"], description="Last complete day of sales the model has seen."
    )


class ForecastStatus(ModelStatus):
    forecast_horizon_default: int = Field(examples=[7])
    served: str | None = Field(
        examples=["ensemble"], description="The method served: the configured one or a fallback."
    )
    backtest: dict[str, dict[str, float]] = Field(
        examples=[{"seasonal_naive": {"mase_h7": 1.0, "mase_h28": 1.1}}],
        description="Every candidate's rolling-origin backtest: MAE, RMSE, MASE, WAPE and bias "
        "at 7 and 28 days ahead.",
    )
