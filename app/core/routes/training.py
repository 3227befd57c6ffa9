"""The routes that train a model on demand: `POST /api/v1/<model>/train` for every model, one
implementation for all. They need an operator (see `app.core.http.access`), and a model trained a
moment ago is not trained again until TRAIN_COOLDOWN_SECONDS have passed. With
`rebuild_rollups=true`, the training first aggregates its rollups over its whole window again."""

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.core.http import OPERATOR_RESPONSES, OperatorAccess, RegistryDep, SettingsDep
from app.core.lifecycle import ModelRegistry
from app.core.names import ModelName
from app.core.routes.jobs import JobAccepted, JobView
from app.core.schemas import TRAIN_ERROR_RESPONSES, TrainResponse, error_response
from app.errors import TooSoon

_DESCRIPTION = (
    "Reads the model's training data from MongoDB, fits it in the worker process, saves it as a "
    "new version and makes it live. Answers 200 with its metrics when the training ends within "
    "TRAIN_WAIT_SECONDS; otherwise 202 with its job, whose `Location` (GET /api/v1/jobs/{id}) "
    "says how far it is and, at the end, what it gave. A request made while that model trains "
    "(here or in another replica) joins the training under way. Needs an API key in "
    "`X-API-Key` (with no API_KEYS configured: a call from the service's own machine). A model "
    "whose last training ended less than TRAIN_COOLDOWN_SECONDS ago answers 429 with "
    "`Retry-After`."
)
_ACCEPTED_EXAMPLE = {
    "id": "5f0c3a1e9b7d4c2aa1e0f3b2c4d5e6f7",
    "model": "forecast",
    "state": "running",
    "stage": "fitting",
    "trigger": "request",
    "replica": "ai-service-1:7:3f2a",
    "created_at": "2026-11-25T18:00:00Z",
    "updated_at": "2026-11-25T18:00:20Z",
    "finished_at": None,
    "timings": {"query_seconds": 2.1},
    "result": None,
    "error": None,
    "status_code": None,
    "message": "The forecast model is training; follow job 5f0c3a1e9b7d4c2aa1e0f3b2c4d5e6f7 at "
    "/api/v1/jobs/5f0c3a1e9b7d4c2aa1e0f3b2c4d5e6f7.",
    "location": "/api/v1/jobs/5f0c3a1e9b7d4c2aa1e0f3b2c4d5e6f7",
}

_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "model": JobAccepted,
        "description": "Still training: follow its job at `Location`.",
        "content": {"application/json": {"example": _ACCEPTED_EXAMPLE}},
    },
    **TRAIN_ERROR_RESPONSES,
    **OPERATOR_RESPONSES,
    422: error_response(
        "The request's content cannot be used.",
        "Query parameter 'rebuild_rollups': Input should be a valid boolean, unable to "
        "interpret input (got 'maybe').",
    ),
    429: error_response(
        "The model's last training ended less than TRAIN_COOLDOWN_SECONDS ago; the "
        "`Retry-After` header says in how many seconds it may be trained again.",
        "The forecast model finished training 12 s ago; it can be trained again in 48 s "
        "(TRAIN_COOLDOWN_SECONDS = 60).",
    ),
}


async def check_cooldown(registry: ModelRegistry, name: ModelName, cooldown: float) -> None:
    """A request for a model that is training joins it; otherwise one that comes less than
    `cooldown` seconds after the model's last training ended, in any process of the
    deployment, is refused."""
    if cooldown <= 0 or registry.training(name):
        return
    since = await registry.seconds_since_training(name)
    if since is not None and since < cooldown:
        wait = math.ceil(cooldown - since)
        raise TooSoon(
            f"The {name} model finished training {max(since, 0):.0f} s ago; it can be trained "
            f"again in {wait} s (TRAIN_COOLDOWN_SECONDS = {cooldown:g}).",
            retry_after=wait,
        )


RebuildRollups = Annotated[
    bool,
    Query(
        description="Aggregate the model's rollups (the daily sums it reads instead of the "
        "transactions) over its whole window again, not only the days since the last update: "
        "after changing NON_SALE_STATUSES or the field names, or after old transactions were "
        "corrected. A model without rollups ignores it.",
    ),
]


def _endpoint(name: ModelName) -> Callable[..., Awaitable[Any]]:
    async def train(
        registry: RegistryDep, settings: SettingsDep, rebuild_rollups: RebuildRollups = False
    ) -> TrainResponse | JSONResponse:
        await check_cooldown(registry, name, settings.TRAIN_COOLDOWN_SECONDS)
        forget = registry.spec(name).forget_rollups
        if rebuild_rollups and forget is not None:
            await forget()
        job, task = await registry.submit(name, "request")
        if task is not None:
            done, _ = await asyncio.wait({task}, timeout=settings.TRAIN_WAIT_SECONDS)
            if done:
                return TrainResponse.from_metadata(name, task.result())
            job = registry.job(name) or job
        location = f"/api/v1/jobs/{job.id}"
        accepted = JobAccepted(
            **JobView.of(job).model_dump(),
            message=f"The {name} model is training; follow job {job.id} at {location}.",
            location=location,
        )
        return JSONResponse(
            accepted.model_dump(mode="json"), status_code=202, headers={"Location": location}
        )

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
