"""Schemas shared by every capability."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """Every error: `detail` is a sentence for a person; `errors` lists validation problems."""

    detail: str = Field(examples=["The forecast model is not trained yet (state: training)."])
    errors: list[dict[str, Any]] | None = None


class TrainResponse(BaseModel):
    message: str = Field(examples=["The forecast model was trained on 90 rows."])
    model_type: str
    trained_at: datetime
    rows_used: int
    data_window: dict[str, datetime]
    metrics: dict[str, float]
    feature_names: list[str]
    query_seconds: float = Field(description="Time spent reading MongoDB.")
    fit_seconds: float = Field(description="Time spent fitting the model.")
    libraries: dict[str, str]

    @classmethod
    def from_metadata(cls, name: str, metadata: dict[str, Any]) -> "TrainResponse":
        message = f"The {name} model was trained on {metadata['rows_used']} rows."
        return cls(message=message, **metadata)


class ModelStatus(BaseModel):
    is_trained: bool
    state: str = Field(examples=["trained"], description="not_trained, training, trained or failed")
    model_type: str
    metrics: dict[str, float]
    last_retrain_time: datetime | Literal["N/A"] = Field(description="N/A before any training.")
    rows_used: int | None = None
    data_window: dict[str, datetime] | None = None
    last_error: str | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": "The request's content cannot be used."},
    503: {"model": ErrorResponse, "description": "Model not trained yet, or database down."},
}
TRAIN_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "Too little data in MongoDB to train."},
    503: {"model": ErrorResponse, "description": "The database is unreachable."},
}
