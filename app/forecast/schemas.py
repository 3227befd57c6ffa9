"""What the forecast routes answer."""

import datetime as dt

from pydantic import BaseModel, Field

from app.core.schemas import ModelStatus


class ForecastPoint(BaseModel):
    date: dt.date = Field(examples=["2026-11-26"])
    predicted_sales: float = Field(examples=[15234.5], description="Forecast sales of the UTC day.")


class ForecastResponse(BaseModel):
    message: str = Field(examples=["Sales forecast for the next 7 days."])
    forecast: list[ForecastPoint] = Field(
        examples=[[{"date": "2026-11-26", "predicted_sales": 15234.5}]],
        description="One point per day, from the first day forecast on.",
    )
    model_type: str = Field(examples=["RandomForestRegressor"])
    history_end: dt.date = Field(
        examples=["2026-11-24"], description="Last complete day of sales the model has seen."
    )


class ForecastStatus(ModelStatus):
    forecast_horizon_default: int = Field(examples=[7])
