"""Routes over the saved versions of every model: list them, and roll one back."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.core.http import OPERATOR_RESPONSES, OperatorAccess, RegistryDep
from app.core.names import MODEL_NAMES, ModelName
from app.core.schemas import ERROR_RESPONSES, NOT_FOUND, error_response

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
    unexpected_pointer: str | None = Field(
        default=None,
        examples=[None],
        description=(
            "The version the store's `current` pointer names when neither the newest training "
            "nor a rollback of this service put it there (someone who can write the model "
            "store moved it); null otherwise. A training or a rollback clears it."
        ),
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


router = APIRouter(prefix="/api/v1/models", tags=["Models"])


@router.get("", summary="Saved versions of every model", response_model=ModelsResponse)
async def list_versions(registry: RegistryDep) -> ModelsResponse:
    """Reads the store's metadata only (no model is loaded): newest first, with the live one."""
    models = []
    for name in MODEL_NAMES:
        saved = [SavedVersion.model_validate(v) for v in await registry.versions(name)]
        live = registry.version(name)
        models.append(
            ModelVersions(
                name=name,
                live_version=live,
                versions=saved,
                unexpected_pointer=registry.unexpected_pointer(name),
            )
        )
    return ModelsResponse(models=models)


@router.post(
    "/{name}/rollback",
    dependencies=[OperatorAccess],
    summary="Serve a saved version again",
    response_model=RollbackResponse,
    responses={
        **ERROR_RESPONSES,
        **OPERATOR_RESPONSES,
        404: NOT_FOUND,
        409: error_response(
            "The model is training, or the version cannot be served.",
            "The forecast model's version cannot be served: version 20261125T180000Z-1a2b3c: "
            "the signature is missing or does not match.",
        ),
    },
)
async def rollback(
    name: ModelName,
    registry: RegistryDep,
    request: RollbackRequest | None = None,
) -> RollbackResponse:
    """Loads the version (checked like any saved model), serves it, and makes it the store's
    current version, so a restart keeps it."""
    metadata = await registry.rollback(name, request.version if request else None)
    return RollbackResponse.from_metadata(name, metadata)
