"""What the model version routes answer."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.core.names import ModelName

_VERSION_EXAMPLE = "20261125T180000Z-1a2b3c"
_WINDOW_EXAMPLE = {"start": "2026-08-27T00:00:00Z", "end": "2026-11-25T00:00:00Z"}


class SavedVersion(BaseModel):
    """One saved training of a model, as its signed metadata records it."""

    version: str = Field(examples=[_VERSION_EXAMPLE])
    live: bool = Field(examples=[True], description="Whether this version answers requests.")
    signed: bool = Field(
        examples=[True],
        description="Whether its signature holds; an unsigned version is never loaded.",
    )
    model_type: str | None = Field(default=None, examples=["ensemble"])
    trained_at: datetime | None = Field(default=None, examples=["2026-11-25T18:00:00Z"])
    data_window: dict[str, datetime] | None = Field(default=None, examples=[_WINDOW_EXAMPLE])
    rows_used: int | None = Field(default=None, examples=[90])
    metrics: dict[str, float] = Field(default_factory=dict, examples=[{"mase_h7": 0.82}])
    service_version: str | None = Field(default=None, examples=["2.0.0"])
    libraries: dict[str, str] = Field(
        default_factory=dict, examples=[{"python": "3.11.7", "scikit-learn": "1.9.1"}]
    )


class ModelVersions(BaseModel):
    name: ModelName = Field(examples=["forecast"])
    live_version: str | None = Field(examples=[_VERSION_EXAMPLE])
    versions: list[SavedVersion] = Field(
        examples=[[{"version": _VERSION_EXAMPLE, "live": True, "signed": True}]],
        description="Newest first; at most MODEL_KEEP_VERSIONS are kept.",
    )


class ModelsResponse(BaseModel):
    models: list[ModelVersions] = Field(
        examples=[[{"name": "forecast", "live_version": _VERSION_EXAMPLE, "versions": []}]]
    )


class RollbackRequest(BaseModel):
    version: str | None = Field(
        default=None,
        examples=[_VERSION_EXAMPLE],
        description="The saved version to serve; by default the one before the live one.",
    )


class RollbackResponse(BaseModel):
    message: str = Field(
        examples=["The forecast model now serves version 20261125T180000Z-1a2b3c."]
    )
    version: str = Field(examples=[_VERSION_EXAMPLE])
    trained_at: datetime = Field(examples=["2026-11-25T18:00:00Z"])

    @classmethod
    def from_metadata(cls, name: str, metadata: dict[str, Any]) -> "RollbackResponse":
        version = metadata["version"]
        return cls(
            message=f"The {name} model now serves version {version}.",
            version=version,
            trained_at=metadata["trained_at"],
        )
