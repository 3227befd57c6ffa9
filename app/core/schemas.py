"""Schemas shared by every capability."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core.names import ModelState

# Every model's state, as /status and /api/v1/health/ready show them in /docs.
STATES_EXAMPLE = {"forecast": "trained", "anomaly": "trained", "recommend": "training"}


class ErrorResponse(BaseModel):
    """Every error: `detail` is a sentence for a person; `errors` lists validation problems."""

    detail: str = Field(examples=["The forecast model is not trained yet (state: training)."])
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        examples=[[{"loc": ["query", "horizon"], "msg": "Input should be ...", "type": "x"}]],
    )


_WINDOW_EXAMPLE = {"start": "2026-08-27T00:00:00Z", "end": "2026-11-25T00:00:00Z"}


_VERSION = Field(
    examples=["20261125T180000Z-1a2b3c"],
    description="The training that produced the model: its time (UTC), then a random suffix.",
)


SERVED_BY_A_MODEL: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The answer; X-Model-Version names the model it comes from (absent "
        "while there is none).",
        "headers": {
            "X-Model-Version": {
                "description": "The version of the model that answered (its status's `version`).",
                "schema": {"type": "string"},
                "example": "20261125T180000Z-1a2b3c",
            }
        },
    }
}
"""`responses=` of a router whose every answer a model serves: documents the header."""


def served_version_field() -> Any:
    """The `model_version` field of an answer a model served."""
    return Field(
        examples=["20261125T180000Z-1a2b3c"],
        description="The version of the model that answered (its status's `version`); also "
        "in the X-Model-Version header.",
    )


# Kept for clients that read it; always null: a model that cannot be saved is no longer served
# (its training fails, and `last_error` says why).
_SAVE_ERROR = Field(
    default=None,
    examples=[None],
    description="Deprecated, always null: a model that cannot be saved is not served any more; "
    "its training fails and `last_error` says why.",
)


class TrainResponse(BaseModel):
    message: str = Field(examples=["The forecast model was trained on 90 rows."])
    version: str = _VERSION
    model_type: str = Field(examples=["RandomForestRegressor"])
    trained_at: datetime = Field(examples=["2026-11-25T18:00:00Z"])
    rows_used: int = Field(examples=[90], description="Days, transactions or user x product pairs.")
    data_window: dict[str, datetime] = Field(examples=[_WINDOW_EXAMPLE])
    metrics: dict[str, float] = Field(examples=[{"mae": 812.4, "rmse": 1020.9}])
    evaluation: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        examples=[{"seasonal_naive": {"mase_h7": 1.0}, "ensemble": {"mase_h7": 0.82}}],
        description="The model's evaluation table, one row per method compared (the forecast's "
        "backtest of every candidate); empty for a model without one.",
    )
    feature_names: list[str] = Field(examples=[["totalAmount", "quantity"]])
    query_seconds: float = Field(examples=[0.8], description="Time spent reading MongoDB.")
    fit_seconds: float = Field(examples=[1.2], description="Time spent fitting the model.")
    libraries: dict[str, str] = Field(
        default_factory=dict, examples=[{"python": "3.11.7", "scikit-learn": "1.9.1"}]
    )
    save_error: None = _SAVE_ERROR

    @classmethod
    def from_metadata(cls, name: str, metadata: dict[str, Any]) -> "TrainResponse":
        message = f"The {name} model was trained on {metadata['rows_used']} rows."
        return cls(message=message, **metadata)


class ModelStatus(BaseModel):
    is_trained: bool = Field(examples=[True])
    version: str | None = Field(
        default=None,
        examples=["20261125T180000Z-1a2b3c"],
        description="The live model's version; null while there is none.",
    )
    state: ModelState = Field(examples=["trained"])
    model_type: str = Field(examples=["IsolationForest"])
    metrics: dict[str, float] = Field(examples=[{"outlier_share": 0.05}])
    last_retrain_time: datetime | Literal["N/A"] = Field(
        examples=["2026-11-25T18:00:00Z"], description="N/A before any training."
    )
    rows_used: int | None = Field(default=None, examples=[50000])
    data_window: dict[str, datetime] | None = Field(default=None, examples=[_WINDOW_EXAMPLE])
    last_error: str | None = Field(
        default=None,
        examples=[None],
        description="Why the last training failed, if it did (a model that could not be saved "
        "among them: it is not served, and the version above stays).",
    )
    save_error: None = _SAVE_ERROR


def error_response(description: str, detail: str) -> dict[str, Any]:
    """An error response for `responses=`, with an example `detail` that Swagger shows."""
    return {
        "model": ErrorResponse,
        "description": description,
        "content": {"application/json": {"example": {"detail": detail}}},
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: error_response(
        "The request's content cannot be used.",
        "Query parameter 'horizon': Input should be less than or equal to 30 (got '31').",
    ),
    503: error_response(
        "Model not trained yet, or database down.",
        "The forecast model is not trained yet (state: training). It trains in the background "
        "when data is available; to train it now, run "
        "`curl -X POST http://<host>:8000/api/v1/forecast/train` (with `-H 'X-API-Key: <key>'` "
        "when API_KEYS is set; without keys, from the service's own machine).",
    ),
}
TOO_LARGE = error_response(
    "The request asks for more than one call may do, or its body is larger than "
    "MAX_REQUEST_BODY_BYTES.",
    "data_points holds 10,001 points; at most 10,000 (MAX_DETECT_POINTS) are scored per "
    "request. Split the batch.",
)
SLOW_BODY = error_response(
    "The request body did not arrive within REQUEST_BODY_TIMEOUT_SECONDS.",
    "The request body did not arrive within 30 s (REQUEST_BODY_TIMEOUT_SECONDS); send it whole "
    "at once, or check the connection.",
)
CROSS_SITE = error_response(
    "Sent by a web page whose origin is not in CORS_ORIGINS.",
    "Refused: a web page of origin 'https://elsewhere.example' may not send POST requests to "
    "this service. Add that origin to CORS_ORIGINS if it should, or call from outside a browser.",
)
NOT_FOUND = error_response(
    "The request names something the service does not know.",
    "Product 'p-123' is not among the 2,000 products the recommendation model learnt from "
    "(bought in the last 90 days), so it has no similar products.",
)
TRAIN_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: error_response(
        "Too little data in MongoDB to train.",
        "Forecasting needs at least 28 days of sales history; found 3 days with total sales "
        "120.00. Load transactions or raise DATA_COLLECTION_DAYS.",
    ),
    503: error_response(
        "The database is unreachable, or the training worker died.",
        "The database is unreachable right now, so this request cannot be served; the service "
        "reconnects by itself, try again shortly (ServerSelectionTimeoutError).",
    ),
    507: error_response(
        "The model was trained but could not be saved (the model folder is full, read-only or "
        "not writable), so it is not served: every process keeps the version in service. The "
        "job ends `failed` with this sentence. A store whose database is unreachable "
        "(MODEL_STORE=gridfs) answers 503 instead.",
        "The new forecast model was trained but could not be saved, so it is not served "
        "(version 20261125T180000Z-1a2b3c stays in service): the model folder is full: 13 MB "
        "free, 41 MB needed. Fix the model store and train again.",
    ),
}
