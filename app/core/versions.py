"""Routes over the saved versions of every model: list them, and roll one back."""

from fastapi import APIRouter

from app.core.access import OPERATOR_RESPONSES, OperatorAccess
from app.core.dependencies import RegistryDep
from app.core.names import MODEL_NAMES, ModelName
from app.core.schemas import ERROR_RESPONSES, NOT_FOUND, error_response
from app.core.version_schemas import (
    ModelsResponse,
    ModelVersions,
    RollbackRequest,
    RollbackResponse,
    SavedVersion,
)

router = APIRouter(prefix="/api/v1/models", tags=["Models"])


@router.get("", summary="Saved versions of every model", response_model=ModelsResponse)
async def list_versions(registry: RegistryDep) -> ModelsResponse:
    """Reads the store's metadata only (no model is loaded): newest first, with the live one."""
    models = []
    for name in MODEL_NAMES:
        saved = [SavedVersion.model_validate(v) for v in await registry.versions(name)]
        live = registry.describe(name).version
        models.append(ModelVersions(name=name, live_version=live, versions=saved))
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
