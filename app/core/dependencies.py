"""Typed access to the shared resources the lifespan builds (see `app.main.AppState`)."""

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.core.clock import Clock
from app.core.database import Database
from app.core.registry import ModelRegistry


def _settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


def _database(request: Request) -> Database:
    database: Database = request.state.database
    return database


def _registry(request: Request) -> ModelRegistry:
    registry: ModelRegistry = request.state.registry
    return registry


def _clock(request: Request) -> Clock:
    clock: Clock = request.state.clock
    return clock


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
RegistryDep = Annotated[ModelRegistry, Depends(_registry)]
ClockDep = Annotated[Clock, Depends(_clock)]
