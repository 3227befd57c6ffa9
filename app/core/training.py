"""The routes that train a model on demand: `POST /api/v1/<model>/train` for every model, one
implementation for all."""

from collections.abc import Awaitable, Callable, Iterable

from fastapi import APIRouter

from app.core.dependencies import RegistryDep
from app.core.names import ModelName
from app.core.registry import ModelRegistry
from app.core.schemas import TRAIN_ERROR_RESPONSES, TrainResponse

_DESCRIPTION = (
    "Reads the model's training data from MongoDB, fits it in the worker process, saves it and "
    "makes it live; answers its metrics. A request made while that model trains waits for the "
    "training under way and gets its result."
)


def _endpoint(name: ModelName) -> Callable[[ModelRegistry], Awaitable[TrainResponse]]:
    async def train(registry: RegistryDep) -> TrainResponse:
        return await registry.train(name)

    return train


def training_router(names: Iterable[ModelName]) -> APIRouter:
    router = APIRouter(tags=["Training"])
    for name in names:
        router.add_api_route(
            f"/api/v1/{name}/train",
            _endpoint(name),
            methods=["POST"],
            name=f"train_{name}",
            summary=f"Train the {name} model now",
            description=_DESCRIPTION,
            response_model=TrainResponse,
            responses=TRAIN_ERROR_RESPONSES,
        )
    return router
