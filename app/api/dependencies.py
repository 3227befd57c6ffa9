"""Typed access to the shared resources the lifespan builds."""

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.database import Database
from app.models.model_manager import ModelManager
from app.services.data_processor import DataProcessor


def _settings(request: Request) -> Settings:
    return request.state.settings


def _database(request: Request) -> Database:
    return request.state.database


def _manager(request: Request) -> ModelManager:
    return request.state.manager


def _data_processor(request: Request) -> DataProcessor:
    return request.state.data


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
ModelManagerDep = Annotated[ModelManager, Depends(_manager)]
DataProcessorDep = Annotated[DataProcessor, Depends(_data_processor)]
