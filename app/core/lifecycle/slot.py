"""One model's place in the registry: what is served, how it got there, what runs for it."""

import asyncio
import gc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from app.core.lifecycle.jobs import Job
from app.core.lifecycle.spec import ModelSpec
from app.core.names import ModelState
from app.core.schemas import ModelStatus

Training = asyncio.Task[dict[str, Any]]


def settle(task: Training) -> None:
    """A training task's done callback: marks its failure as seen, for it is recorded in its
    job and the model's state even when no caller waited for it."""
    if not task.cancelled():
        task.exception()


# The original service's last_retrain_time before any training; callers show it.
NEVER: Literal["N/A"] = "N/A"


@dataclass
class ModelSlot:
    """One model's place in the registry: the live model, its metadata, its training task."""

    spec: ModelSpec[Any, Any]
    model: Any = None
    metadata: dict[str, Any] | None = None
    last_error: str | None = None
    task: Training | None = field(default=None, repr=False)
    job: Job | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # The store's `current` pointer as last seen (see `ModelRegistry.sync`).
    seen: tuple[int, int] | None = None
    sync_task: asyncio.Task[None] | None = field(default=None, repr=False)
    ended: datetime | None = None  # when its last training here ended, whatever the outcome
    loading: bool = False

    @property
    def training(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def state(self) -> ModelState:
        if self.training:
            return "training"
        if self.model is not None:
            return "trained"
        if self.loading:
            return "loading"
        return "failed" if self.last_error else "not_trained"

    @property
    def version(self) -> str | None:
        """The version of the model served, None before any."""
        version = (self.metadata or {}).get("version")
        return str(version) if version is not None else None

    @property
    def trained_at(self) -> datetime | None:
        stamp = (self.metadata or {}).get("trained_at")
        return datetime.fromisoformat(stamp) if stamp else None

    def install(self, model: Any, metadata: dict[str, Any]) -> None:
        """Makes a model live in one assignment, then freezes the garbage collector's view of
        every object alive: the libraries and models are long-lived, and a full collection over
        them took about 80 ms, stalling whichever request it fell on. Models hold no reference
        cycles, so a replaced one is still freed by reference counting."""
        self.model, self.metadata, self.last_error = model, metadata, None
        gc.freeze()

    def status(self) -> ModelStatus:
        """What the model status endpoints report, common to every model."""
        metadata = self.metadata or {}
        return ModelStatus(
            is_trained=self.model is not None,
            version=self.version,
            state=self.state,
            model_type=metadata.get("model_type", self.spec.model_type),
            metrics=metadata.get("metrics", {}),
            last_retrain_time=self.trained_at or NEVER,
            rows_used=metadata.get("rows_used"),
            data_window=metadata.get("data_window"),
            last_error=self.last_error,
        )
