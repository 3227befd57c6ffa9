"""What the anomaly routes take and answer."""

import json
from typing import Any

from pydantic import BaseModel, Field, field_validator

from app.core.schemas import ModelStatus

MAX_DATA_POINTS = 10_000


class AnomalyDetectionRequest(BaseModel):
    data_points: list[dict[str, Any]] = Field(
        max_length=MAX_DATA_POINTS,
        description="Transactions to score; each holds a number for every feature.",
        examples=[[{"totalAmount": 120.5, "quantity": 2}, {"totalAmount": 98000, "quantity": 400}]],
    )
    features: list[str] = Field(
        default=["totalAmount", "quantity"],
        min_length=1,
        examples=[["totalAmount", "quantity"]],
        description="Features of the points to score: the model's `totalAmount` (alias "
        "`totalPrice`) and `quantity`.",
    )

    @field_validator("data_points")
    @classmethod
    def _unicode_text(cls, points: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Points are sent back in the answer, which must be valid UTF-8."""
        try:
            json.dumps(points, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                "holds text that is not valid Unicode (a lone surrogate such as \\ud800)"
            ) from exc
        return points


class AnomalyResult(BaseModel):
    is_anomaly: bool = Field(examples=[True])
    anomaly_score: float = Field(
        examples=[-0.12], description="Lower is more anomalous; below 0 is an anomaly."
    )
    data: dict[str, Any] = Field(
        examples=[{"totalAmount": 98000, "quantity": 400}],
        description="The data point as it was sent.",
    )
    details: dict[str, float] = Field(
        examples=[{"totalAmount": 98000.0, "quantity": 400.0}],
        description="The feature values the model scored.",
    )


class AnomalyStatus(ModelStatus):
    contamination_threshold: float = Field(examples=[0.05])
