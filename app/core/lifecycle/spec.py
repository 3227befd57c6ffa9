"""What a capability tells the registry about its model, and what the registry tells those who
listen to trainings: plain data, so that capabilities and metrics need not import the
registry.

Two type variables tie a capability's parts together, so that mypy checks them: `D`, what its
`read` gathers for one training and its fit takes, and `M`, the fitted model its fit returns,
its services are answered with and its `prepare` readies."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from app.core.fit_entry import resolve
from app.core.names import ModelName


class FittedModel(Protocol):
    """What the registry reads of any fitted model: its figures, recorded with its version."""

    @property
    def metrics(self) -> Mapping[str, float]: ...


D = TypeVar("D")
M = TypeVar("M", bound=FittedModel)


@dataclass(frozen=True)
class TrainingData(Generic[D]):
    """What a capability read for one training: the fit's one argument, and the facts about it
    that the model's metadata records."""

    data: D
    rows: int
    window_start: datetime
    window_end: datetime
    timings: dict[str, float] = field(default_factory=dict)  # within the read: a rollup's update


@dataclass(frozen=True)
class FitReference(Generic[D, M]):
    """The function that fits a model, named as `module:function`: the worker process imports
    it, so the server never imports the model's fitting code. Typed with what it takes and
    returns. The worker is sent only the name, which `app.core.fit_entry` imports there;
    `resolve` imports it here, typed (the test that checks every registered reference against
    its service's types does)."""

    target: str

    def resolve(self) -> Callable[[D], M]:
        fit: Callable[[D], M] = resolve(self.target)
        return fit


@dataclass(frozen=True)
class ModelSpec(Generic[D, M]):
    """How one model is trained and readied to be served."""

    name: ModelName
    model_type: str
    read: Callable[[datetime], Awaitable[TrainingData[D]]]
    fit: FitReference[D, M]
    # Awaited with a model and its metadata before it goes live (trained or loaded): what
    # serving it needs besides the model is read then. It handles its own failures.
    prepare: Callable[[M, dict[str, Any]], Awaitable[None]] | None = None
    # Forgets what the capability's rollups cover, so that its next training aggregates its
    # whole window again (see `app.core.db.rollups`); None for a capability without rollups.
    forget_rollups: Callable[[], Awaitable[None]] | None = None

    async def prepare_served(self, model: M, metadata: dict[str, Any]) -> None:
        """Readies a model, trained or loaded, to be served, when the capability asks to."""
        if self.prepare is not None:
            await self.prepare(model, metadata)


@dataclass(frozen=True)
class TrainingEnded:
    """What the registry tells its training listeners (the metrics) when a training ends:
    `metadata` is the new model's on success, None on failure; `save_failed` when it failed
    because the new model could not be saved (so it is not served)."""

    name: ModelName
    succeeded: bool
    seconds: float
    metadata: dict[str, Any] | None
    save_failed: bool = False
