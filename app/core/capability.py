"""What every capability's service shares: the core's resources, and the model it registers."""

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.core.clock import Clock
from app.core.names import ModelName
from app.core.registry import ModelRegistry, ModelSpec


class ModelService(ABC):
    """A capability's use cases; `spec` says how the registry trains its model."""

    name: ClassVar[ModelName]

    def __init__(
        self,
        settings: Settings,
        db: AsyncDatabase[dict[str, Any]],
        registry: ModelRegistry,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._db = db
        self._registry = registry
        self._clock = clock

    @abstractmethod
    def spec(self) -> ModelSpec:
        """How the registry trains this capability's model."""
