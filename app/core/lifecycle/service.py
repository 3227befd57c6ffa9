"""What every capability's service shares: the core's resources, and the model it registers."""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.core.clock import Clock
from app.core.lifecycle.registry import ModelRegistry
from app.core.lifecycle.served import note_served
from app.core.lifecycle.spec import ModelSpec, TrainingData
from app.core.names import ModelName
from app.core.schemas import ModelStatus


@dataclass(eq=False)
class ModelService(ABC):
    """A capability's use cases, and how the registry trains its model: `read` (in the server)
    gathers the training data, and the function named by FIT fits it in the worker process."""

    name: ClassVar[ModelName]
    FIT: ClassVar[str]  # "module:function"
    MODEL_TYPE_SETTING: ClassVar[str]  # the setting that chooses the kind of model

    _settings: Settings
    _db: AsyncDatabase[dict[str, Any]]
    _registry: ModelRegistry
    _clock: Clock

    @property
    def model_type(self) -> str:
        """The configured kind of model, recorded with it and checked when it is loaded."""
        return str(getattr(self._settings, self.MODEL_TYPE_SETTING))

    @abstractmethod
    async def read(self, now: datetime) -> TrainingData:
        """Reads what a training at `now` fits on."""

    def spec(self) -> ModelSpec:
        return ModelSpec(self.name, self.model_type, self.read, self.FIT)

    def _live(self) -> tuple[Any, str | None]:
        """The live model and its version (read together, with no await between), noted for
        the `X-Model-Version` header."""
        model = self._registry.live(self.name)
        return model, note_served(self._registry.describe(self.name).version)

    def _described(self) -> ModelStatus:
        """What the model's status reports, its version noted for the header."""
        described = self._registry.describe(self.name)
        note_served(described.version)
        return described
