"""What every capability's service shares: the core's resources, and the model it registers."""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic

from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.core.clock import Clock
from app.core.lifecycle.registry import ModelRegistry
from app.core.lifecycle.served import note_served
from app.core.lifecycle.spec import D, FitReference, M, ModelSpec, TrainingData
from app.core.names import ModelName
from app.core.schemas import ModelStatus


@dataclass(eq=False)
class ModelService(ABC, Generic[D, M]):
    """A capability's use cases over its model `M`, and how the registry trains it: `read` (in
    the server) gathers the training data `D`, and the function `fit` names fits it in the
    worker process. The registry holds, for this service's name, only models that fit returned
    or that were saved from one, so `_live` gives them back as `M`."""

    name: ClassVar[ModelName]
    MODEL_TYPE_SETTING: ClassVar[str]  # the setting that chooses the kind of model

    _settings: Settings
    _db: AsyncDatabase[dict[str, Any]]
    _registry: ModelRegistry
    _clock: Clock

    @property
    def model_type(self) -> str:
        """The configured kind of model, recorded with it and checked when it is loaded."""
        return str(getattr(self._settings, self.MODEL_TYPE_SETTING))

    @property
    @abstractmethod
    def fit(self) -> FitReference[D, M]:
        """The function the worker process fits `read`'s data with."""

    @abstractmethod
    async def read(self, now: datetime) -> TrainingData[D]:
        """Reads what a training at `now` fits on."""

    def spec(self) -> ModelSpec[D, M]:
        return ModelSpec(
            self.name, self.model_type, self.read, self.fit, forget_rollups=self.forget_rollups
        )

    async def forget_rollups(self) -> None:
        """Forgets what this capability's rollups cover (none by default)."""

    def _live(self) -> tuple[M, str | None]:
        """The live model and its version (read together, with no await between), noted for
        the `X-Model-Version` header; 503 while there is none."""
        return self._model(), note_served(self._registry.version(self.name))

    def _model(self) -> M:
        """The live model, its version not noted (for what the model's answer is not the
        whole of); 503 while there is none."""
        model: M = self._registry.live(self.name)
        return model

    def _live_or_none(self) -> M | None:
        """The live model, or None while there is none (for status reports)."""
        model: M | None = self._registry.live_or_none(self.name)
        return model

    def _described(self) -> ModelStatus:
        """What the model's status reports, its version noted for the header."""
        described = self._registry.describe(self.name)
        note_served(described.version)
        return described
