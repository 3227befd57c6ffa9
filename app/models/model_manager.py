"""The live models: loaded or trained at start-up, retrained periodically or on demand.

Training runs off the event loop and one at a time per model: a second request for a model that
is training waits for that training and gets its result. The new model replaces the live one in
a single assignment once it is saved, so predictions never see a half-trained model."""

import asyncio
import contextlib
import gc
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from loguru import logger

from app.config import Settings
from app.database import Database
from app.errors import ModelNotTrained, ServiceError
from app.models.store import ArtifactInvalid, ArtifactStore
from app.services.data_processor import DataProcessor
from app.services.training import Trainer, train_anomaly, train_forecast, train_recommend

NEVER = "N/A"  # the original service's last_retrain_time before any training; callers show it


@dataclass
class ModelSlot:
    """One model's place in the manager: the live model, its metadata, its training task."""

    name: str
    model_type: str
    trainer: Trainer
    model: Any = None
    metadata: dict[str, Any] | None = None
    last_error: str | None = None
    task: asyncio.Task[dict[str, Any]] | None = None

    @property
    def training(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def state(self) -> str:
        if self.training:
            return "training"
        if self.model is not None:
            return "trained"
        return "failed" if self.last_error else "not_trained"

    @property
    def trained_at(self) -> datetime | None:
        stamp = (self.metadata or {}).get("trained_at")
        return datetime.fromisoformat(stamp) if stamp else None


def _install(slot: ModelSlot, model: Any, metadata: dict[str, Any]) -> None:
    """Makes a model live in one assignment, then freezes the garbage collector's view of every
    object alive: the libraries and models are long-lived, and a full collection over them took
    about 80 ms, stalling whichever request it fell on. Models hold no reference cycles, so a
    replaced one is still freed by reference counting."""
    slot.model, slot.metadata, slot.last_error = model, metadata, None
    gc.freeze()


class ModelManager:
    """Holds the three models; one instance per application, shared through the app state."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        data: DataProcessor,
        store: ArtifactStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._database = database
        self._data = data
        self._store = store
        self._clock = clock
        self._loaded = False
        self._background: set[asyncio.Task[None]] = set()
        self.slots = {
            "forecast": ModelSlot("forecast", settings.FORECAST_MODEL_TYPE, train_forecast),
            "anomaly": ModelSlot("anomaly", settings.ANOMALY_MODEL_TYPE, train_anomaly),
            "recommend": ModelSlot("recommend", settings.RECOMMENDER_MODEL_TYPE, train_recommend),
        }

    def live(self, name: str) -> Any:
        """The trained model, or `ModelNotTrained` saying how to train it."""
        slot = self.slots[name]
        if slot.model is None:
            raise ModelNotTrained(name, slot.state)
        return slot.model

    def status(self, name: str) -> dict[str, Any]:
        """What the model status endpoints report, common to every model."""
        slot = self.slots[name]
        metadata = slot.metadata or {}
        return {
            "is_trained": slot.model is not None,
            "state": slot.state,
            "model_type": metadata.get("model_type", slot.model_type),
            "metrics": metadata.get("metrics", {}),
            "last_retrain_time": slot.trained_at or NEVER,
            "rows_used": metadata.get("rows_used"),
            "data_window": metadata.get("data_window"),
            "last_error": slot.last_error,
        }

    @property
    def last_retrain_time(self) -> datetime | None:
        times = [s.trained_at for s in self.slots.values() if s.trained_at]
        return max(times) if times else None

    async def start(self) -> None:
        """Loads saved models (in a thread), then trains those missing if MongoDB is up."""
        for slot in self.slots.values():
            await self._load(slot)
        self._loaded = True
        if self._database.connected:
            await self.train_missing()

    async def _load(self, slot: ModelSlot) -> None:
        try:
            found = await asyncio.to_thread(self._store.load, slot.name, slot.model_type)
        except ArtifactInvalid as exc:
            logger.warning("Saved {} model refused, it will be retrained: {}", slot.name, exc)
            return
        if found is None:
            logger.info("No saved {} model; it will be trained", slot.name)
            return
        _install(slot, *found)
        logger.info("Loaded the {} model trained at {}", slot.name, found[1]["trained_at"])

    async def train(self, name: str) -> dict[str, Any]:
        """Trains one model now, or joins the training already under way; returns its metadata."""
        slot = self.slots[name]
        if not slot.training:
            slot.task = asyncio.create_task(self._train(slot), name=f"train-{name}")
        return await asyncio.shield(slot.task)

    async def _train(self, slot: ModelSlot) -> dict[str, Any]:
        logger.info("Training the {} model ({})", slot.name, slot.model_type)
        try:
            trained = await slot.trainer(self._data, self._settings, self._clock())
            metadata = await asyncio.to_thread(
                self._store.save, slot.name, trained.model, trained.metadata(slot.model_type)
            )
        except ServiceError as exc:
            slot.last_error = exc.detail
            logger.warning("Training the {} model failed: {}", slot.name, exc.detail)
            raise
        except Exception as exc:
            slot.last_error = f"{type(exc).__name__}: {exc}"
            logger.exception("Training the {} model failed", slot.name)
            raise ServiceError(f"Training the {slot.name} model failed: {exc}") from exc
        _install(slot, trained.model, metadata)
        logger.info(
            "Trained the {} model on {} rows (query {:.2f}s, fit {:.2f}s): {}",
            slot.name,
            trained.rows,
            trained.query_seconds,
            trained.fit_seconds,
            trained.metrics,
        )
        return metadata

    async def train_missing(self) -> None:
        """Trains, one after the other, every model that is not trained yet."""
        for slot in self.slots.values():
            if slot.model is None:
                await self._train_logged(slot.name)

    async def retrain_all(self) -> None:
        for name in self.slots:
            await self._train_logged(name)

    async def _train_logged(self, name: str) -> None:
        """Background training: a failure is logged and kept in the model's state, not raised."""
        with contextlib.suppress(ServiceError):
            await self.train(name)

    def on_database_back(self) -> None:
        """Called when MongoDB becomes reachable: trains what could not be trained without it."""
        if self._loaded:
            self._spawn(self.train_missing())

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Runs a background coroutine, keeping a reference so it is not garbage-collected."""
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def retrain_periodically(self) -> None:
        """Retrains every model each RETRAIN_INTERVAL_HOURS, until cancelled at shutdown."""
        interval = self._settings.RETRAIN_INTERVAL_HOURS * 3600
        while True:
            await asyncio.sleep(interval)
            logger.info("Periodic retraining of every model")
            await self.retrain_all()

    async def retry_untrained_periodically(self) -> None:
        """Every UNTRAINED_RETRY_MINUTES, trains the models that are still missing (the data may
        have arrived since), so a fresh deployment needs no one to call /train."""
        interval = self._settings.UNTRAINED_RETRY_MINUTES * 60
        while True:
            await asyncio.sleep(interval)
            if self._database.connected and any(s.model is None for s in self.slots.values()):
                await self.train_missing()

    async def stop(self) -> None:
        """Cancels background work; a fit already running in a thread finishes on its own."""
        tasks = [*self._background, *(s.task for s in self.slots.values() if s.training)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
