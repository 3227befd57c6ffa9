"""What the anomaly routes take and answer."""

import datetime as dt
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from app.core.schemas import ModelStatus, served_version_field

# A hard ceiling on what is parsed at all; MAX_DETECT_POINTS (at most this) is the served limit.
HARD_MAX_DATA_POINTS = 100_000
# The model reads two features, under three names; these bounds leave room and keep an invalid
# request's answer short.
MAX_FEATURES = 16
MAX_FEATURE_NAME_CHARS = 64
# A producer transaction has about ten keys; a point may carry more, sent back untouched.
MAX_POINT_KEYS = 100
FeatureName = Annotated[str, StringConstraints(max_length=MAX_FEATURE_NAME_CHARS)]


class AnomalyDetectionRequest(BaseModel):
    data_points: list[dict[str, Any]] = Field(
        max_length=HARD_MAX_DATA_POINTS,
        description="Transactions to score (at most MAX_DETECT_POINTS, 10,000 by default); "
        "each holds `totalAmount` (or `totalPrice`) and `quantity`, and may hold a `productId`, "
        "which lets its unit price be compared with the product's usual one; at most "
        f"{MAX_POINT_KEYS} keys per point.",
        examples=[[{"totalAmount": 120.5, "quantity": 2}, {"totalAmount": 98000, "quantity": 400}]],
    )
    features: list[FeatureName] = Field(
        default=["totalAmount", "quantity"],
        min_length=1,
        max_length=MAX_FEATURES,
        examples=[["totalAmount", "quantity"]],
        description="Features of the points to score: the model's `totalAmount` (alias "
        f"`totalPrice`) and `quantity`; at most {MAX_FEATURES} names of at most "
        f"{MAX_FEATURE_NAME_CHARS} characters.",
    )

    @field_validator("data_points")
    @classmethod
    def _few_keys(cls, points: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A point is one transaction: a bound on its keys keeps one point from being huge."""
        for index, point in enumerate(points):
            if len(point) > MAX_POINT_KEYS:
                raise ValueError(
                    f"point {index} has {len(point):,} keys; a point may have at most "
                    f"{MAX_POINT_KEYS} (one transaction's fields)"
                )
        return points

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


Severity = Literal["low", "medium", "high"]


class Reason(BaseModel):
    """One feature that makes a point unusual."""

    feature: Literal["amount", "unit_price", "price_ratio", "quantity_ratio"] = Field(
        examples=["price_ratio"]
    )
    value: float = Field(examples=[1240.0], description="The point's value (price for a ratio).")
    usual_low: float = Field(examples=[98.5], description="1st percentile in training.")
    usual_high: float = Field(examples=[161.0], description="99th percentile in training.")
    tail_probability: float = Field(
        examples=[0.00002], description="Share of training transactions at least as far out."
    )
    sentence: str = Field(examples=["unit price 1,240.00 is 9.8× this product's usual 126.50"])


_REASON_EXAMPLE = {
    "feature": "price_ratio",
    "value": 1240.0,
    "usual_low": 98.5,
    "usual_high": 161.0,
    "tail_probability": 0.00002,
    "sentence": "unit price 1,240.00 is 9.8× this product's usual 126.50",
}


class AnomalyResult(BaseModel):
    is_anomaly: bool = Field(examples=[True])
    anomaly_score: float = Field(
        examples=[-3.2], description="Lower is more anomalous; below 0 is an anomaly."
    )
    severity: Severity = Field(
        examples=["high"],
        description="Relative to the flag budget (ANOMALY_FLAG_RATE): high among the most "
        "unusual hundredth of the budget's share, medium among its most unusual tenth, low "
        "otherwise.",
    )
    explanation: list[Reason] = Field(
        examples=[[_REASON_EXAMPLE]],
        description="The features that make the point unusual, most unusual first; empty for "
        "most ordinary points, never empty for a flagged one.",
    )
    expected_flag_rate: float = Field(
        examples=[0.02],
        description="The share of transactions the model is calibrated to flag "
        "(ANOMALY_FLAG_RATE): about 2 in 100 by default. A batch flagged far more often than "
        "this differs from the recent weeks.",
    )
    data: dict[str, Any] = Field(
        examples=[{"totalAmount": 98000, "quantity": 400}],
        description="The data point as it was sent.",
    )
    details: dict[str, float] = Field(
        examples=[{"totalAmount": 98000.0, "quantity": 400.0}],
        description="The amount and quantity the model read from the point.",
    )


class ScoredTransaction(BaseModel):
    """A stored transaction as the live model scores it."""

    is_anomaly: bool = Field(examples=[True])
    transactionId: str | None = Field(examples=["5b0c8a7e-3f2d-4e1a-9c6b-7d8e9f0a1b2c"])
    date: datetime = Field(examples=["2026-11-24T15:32:10Z"])
    userId: str | None = Field(examples=["4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a5b"])
    productId: str | None = Field(examples=["9d2c4b7a-1e3f-4a5b-8c6d-7e8f9a0b1c2d"])
    totalAmount: float = Field(examples=[6199.95])
    quantity: float = Field(examples=[5])
    anomaly_score: float = Field(examples=[-3.2])
    severity: Severity = Field(examples=["high"])
    explanation: list[Reason] = Field(examples=[[_REASON_EXAMPLE]])


class DayCount(BaseModel):
    date: dt.date = Field(examples=["2026-11-24"])
    transactions: int = Field(examples=[412], description="Transactions scored that day.")
    flagged: int = Field(examples=[3])


class RecentAnomalies(BaseModel):
    message: str = Field(examples=["Scored 2,871 transactions of the last 7 days; 66 flagged."])
    days: int = Field(examples=[7])
    scored: int = Field(examples=[2871])
    flagged: int = Field(examples=[66])
    expected_flag_rate: float = Field(
        examples=[0.02],
        description="The share the model is calibrated to flag (ANOMALY_FLAG_RATE).",
    )
    flag_rate: float | None = Field(
        examples=[0.023], description="flagged / scored over these days; null when none scored."
    )
    flag_rate_note: str = Field(
        examples=["About 2 in 100 transactions are flagged; these 7 days 2.3 in 100."],
        description="The two rates in words, so that a jump in the rate is seen.",
    )
    per_day: list[DayCount] = Field(
        examples=[[{"date": "2026-11-24", "transactions": 412, "flagged": 3}]],
        description="Every day of the window, oldest first, days without transactions included.",
    )
    most_anomalous: list[ScoredTransaction] = Field(
        examples=[[]],
        description="The most anomalous transactions, most anomalous first (flagged or not).",
    )
    model_version: str | None = served_version_field()


class AnomalyStatus(ModelStatus):
    contamination_threshold: float = Field(
        examples=[0.02],
        description="The flag budget the model was trained with (ANOMALY_FLAG_RATE; "
        "ANOMALY_THRESHOLD is its former name).",
    )
    expected_flag_rate: float = Field(
        examples=[0.02], description="The share of transactions flagged: the flag budget."
    )
    recent_flag_rate: float | None = Field(
        examples=[0.023],
        description="The share flagged among the transactions of the last days of the "
        "training window (ANOMALY_CALIBRATION_DAYS) by the calibrated threshold.",
    )
    calibration_rows: int | None = Field(
        examples=[14210], description="Transactions of those days the threshold was set on."
    )
    flag_rate_note: str = Field(
        examples=["About 2 in 100 transactions are flagged; in the last 7 days 2.3 in 100."],
        description="The expected and the recent rate in words.",
    )
    features: list[str] = Field(
        examples=[["log_amount", "log_unit_price", "price_ratio", "quantity_ratio"]]
    )
    training_sample_size: int | None = Field(examples=[50000])
    share_flagged_in_training: float | None = Field(examples=[0.01])
    threshold: float | None = Field(
        examples=[14.2],
        description="Raw score above which a point is flagged, as calibrated on the last days.",
    )
    severity_cutoffs: dict[str, float] = Field(
        examples=[{"medium": 19.8, "high": 31.5}],
        description="Raw scores above which a flag is of medium and of high severity.",
    )
