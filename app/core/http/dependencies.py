"""Typed access to the shared resources the lifespan builds (see `app.main.AppState`)."""

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from app.config import Settings
from app.core.clock import Clock
from app.core.db import Database
from app.core.lifecycle import JobLog, ModelRegistry

T = TypeVar("T")


def from_state(key: str, _: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency that reads `key` of the lifespan state, typed as the given class. Async, as
    every dependency here: FastAPI runs a plain `def` dependency in its thread pool, a thread
    hop per request that, under load, cost the cached forecast several times health's latency."""

    async def read(request: Request) -> T:
        value: T = getattr(request.state, key)
        return value

    read.__name__ = f"{key}_from_state"
    return read


async def _clock(request: Request) -> Clock:
    clock: Clock = request.state.clock
    return clock


SettingsDep = Annotated[Settings, Depends(from_state("settings", Settings))]
DatabaseDep = Annotated[Database, Depends(from_state("database", Database))]
JobLogDep = Annotated[JobLog, Depends(from_state("jobs", JobLog))]
RegistryDep = Annotated[ModelRegistry, Depends(from_state("registry", ModelRegistry))]
ClockDep = Annotated[Clock, Depends(_clock)]
