"""What a capability tells the registry about its model, and what the registry tells those who
listen to trainings: plain data, so that capabilities and metrics need not import the
registry."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.names import ModelName


@dataclass(frozen=True)
class TrainingData:
    """What a capability read for one training: the fit's arguments, and the facts about them
    that the model's metadata records."""

    arguments: tuple[Any, ...]
    rows: int
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True)
class ModelSpec:
    """How one model is trained. `fit` names a function as `module:function`: the worker
    process imports it, so the server never imports the model's fitting code to train."""

    name: ModelName
    model_type: str
    read: Callable[[datetime], Awaitable[TrainingData]]
    fit: str
    # Awaited with a model and its metadata before it goes live (trained or loaded): what
    # serving it needs besides the model is read then. It handles its own failures.
    prepare: Callable[[Any, dict[str, Any]], Awaitable[None]] | None = None

    async def prepare_served(self, model: Any, metadata: dict[str, Any]) -> None:
        """Readies a model, trained or loaded, to be served, when the capability asks to."""
        if self.prepare is not None:
            await self.prepare(model, metadata)


@dataclass(frozen=True)
class TrainingEnded:
    """What the registry tells its training listeners (the metrics) when a training ends:
    `metadata` is the new model's on success, None on failure."""

    name: ModelName
    succeeded: bool
    seconds: float
    metadata: dict[str, Any] | None
