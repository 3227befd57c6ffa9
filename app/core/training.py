"""The routes that train a model on demand: `POST /api/v1/<model>/train` for every model, one
implementation for all. They need an operator (see `app.core.access`), and a model trained a
moment ago is not trained again until TRAIN_COOLDOWN_SECONDS have passed."""

import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter

from app.config import Settings
from app.core.access import OPERATOR_RESPONSES, OperatorAccess
from app.core.dependencies import RegistryDep, SettingsDep
from app.core.names import ModelName
from app.core.registry import ModelRegistry
from app.core.schemas import TRAIN_ERROR_RESPONSES, TrainResponse, error_response
from app.errors import TooSoon

_DESCRIPTION = (
    "Reads the model's training data from MongoDB, fits it in the worker process, saves it and "
    "makes it live; answers its metrics. A request made while that model trains waits for the "
    "training under way and gets its result. Needs an API key in `X-API-Key` (with no "
    "API_KEYS configured: a call from the service's own machine). A model whose last training "
    "ended less than TRAIN_COOLDOWN_SECONDS ago answers 429 with `Retry-After`."
)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **TRAIN_ERROR_RESPONSES,
    **OPERATOR_RESPONSES,
    429: error_response(
        "The model's last training ended less than TRAIN_COOLDOWN_SECONDS ago; the "
        "`Retry-After` header says in how many seconds it may be trained again.",
        "The forecast model finished training 12 s ago; it can be trained again in 48 s "
        "(TRAIN_COOLDOWN_SECONDS = 60).",
    ),
}


def check_cooldown(registry: ModelRegistry, name: ModelName, cooldown: float) -> None:
    """A request for a model that is training joins it; otherwise one that comes less than
    `cooldown` seconds after the model's last training ended is refused."""
    ended = registry.last_training_ended(name)
    if cooldown <= 0 or ended is None or registry.training(name):
        return
    since = time.monotonic() - ended
    if since < cooldown:
        wait = math.ceil(cooldown - since)
        raise TooSoon(
            f"The {name} model finished training {since:.0f} s ago; it can be trained again in "
            f"{wait} s (TRAIN_COOLDOWN_SECONDS = {cooldown:g}).",
            retry_after=wait,
        )


def _endpoint(name: ModelName) -> Callable[[ModelRegistry, Settings], Awaitable[TrainResponse]]:
    async def train(registry: RegistryDep, settings: SettingsDep) -> TrainResponse:
        check_cooldown(registry, name, settings.TRAIN_COOLDOWN_SECONDS)
        return await registry.train(name)

    return train


def training_router(names: Iterable[ModelName]) -> APIRouter:
    router = APIRouter(tags=["Training"], dependencies=[OperatorAccess])
    for name in names:
        router.add_api_route(
            f"/api/v1/{name}/train",
            _endpoint(name),
            methods=["POST"],
            name=f"train_{name}",
            summary=f"Train the {name} model now",
            description=_DESCRIPTION,
            response_model=TrainResponse,
            responses=_RESPONSES,
        )
    return router
