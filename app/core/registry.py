"""The live models: loaded or trained at start-up, retrained periodically or on demand.

Each capability registers a `ModelSpec`: how to read its training data from MongoDB (async, in
the server) and which function fits it (in the worker process). Training runs one at a time per
model: a second request for a model that is training joins that training and gets its result.
The new model replaces the live one in a single assignment once it is saved, so predictions
never see a half-trained model."""

import asyncio
import contextlib
import gc
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from loguru import logger

from app.config import Settings
from app.core.clock import Clock
from app.core.database import Database
from app.core.names import ModelName, ModelState
from app.core.runner import FitRunner
from app.core.schemas import ModelStatus, TrainResponse
from app.core.store import ArtifactInvalid, ArtifactStore
from app.errors import ModelLoading, ModelNotTrained, ServiceError

# The original service's last_retrain_time before any training; callers show it.
NEVER: Literal["N/A"] = "N/A"
STOP_SECONDS = 3.0  # how long shutdown waits for trainings to end once cancelled


def model_version(trained_at: datetime) -> str:
    """A training's version id, sortable by time and unique across replicas:
    `20261125T180000Z-1a2b3c`."""
    return f"{trained_at:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


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


@dataclass(frozen=True)
class TrainingEnded:
    """What the registry tells its training listeners (the metrics) when a training ends:
    `metadata` is the new model's on success, None on failure."""

    name: ModelName
    succeeded: bool
    seconds: float
    metadata: dict[str, Any] | None


@dataclass
class _Slot:
    """One model's place in the registry: the live model, its metadata, its training task."""

    spec: ModelSpec
    model: Any = None
    metadata: dict[str, Any] | None = None
    last_error: str | None = None
    loading: bool = False
    task: asyncio.Task[dict[str, Any]] | None = field(default=None, repr=False)

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


class ModelRegistry:
    """Holds every registered model; one instance per application. It owns its background
    tasks (loading, periodic retraining, retrying untrained models): `start` and `stop`."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        store: ArtifactStore,
        runner: FitRunner,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._database = database
        self._store = store
        self._runner = runner
        self._clock = clock
        self._slots: dict[ModelName, _Slot] = {}
        self._loaded = False
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._training_listeners: list[Callable[[TrainingEnded], None]] = []
        database.on_connect(self._on_database_back)

    def register(self, spec: ModelSpec) -> None:
        self._slots[spec.name] = _Slot(spec)

    def on_training(self, listener: Callable[[TrainingEnded], None]) -> None:
        """Registers a function called at the end of every training, whatever its outcome."""
        self._training_listeners.append(listener)

    def live(self, name: ModelName) -> Any:
        """The trained model; `ModelLoading` while its saved file is read, or `ModelNotTrained`
        saying how to train it."""
        slot = self._slots[name]
        if slot.model is None:
            if slot.state == "loading":
                raise ModelLoading(name)
            raise ModelNotTrained(name, slot.state)
        return slot.model

    def live_or_none(self, name: ModelName) -> Any:
        """The trained model, or None while there is none."""
        return self._slots[name].model

    def states(self) -> dict[ModelName, ModelState]:
        return {name: slot.state for name, slot in self._slots.items()}

    def describe(self, name: ModelName) -> ModelStatus:
        """What the model status endpoints report, common to every model."""
        slot = self._slots[name]
        metadata = slot.metadata or {}
        return ModelStatus(
            is_trained=slot.model is not None,
            version=metadata.get("version"),
            state=slot.state,
            model_type=metadata.get("model_type", slot.spec.model_type),
            metrics=metadata.get("metrics", {}),
            last_retrain_time=slot.trained_at or NEVER,
            rows_used=metadata.get("rows_used"),
            data_window=metadata.get("data_window"),
            last_error=slot.last_error,
        )

    @property
    def loaded(self) -> bool:
        """Whether start-up loading of the saved models is over."""
        return self._loaded

    @property
    def last_retrain_time(self) -> datetime | None:
        times = [s.trained_at for s in self._slots.values() if s.trained_at]
        return max(times) if times else None

    def start(self) -> None:
        """Starts the background tasks: load or train every model, then keep them fresh."""
        self._spawn(self._load_then_train(), "models-start")
        if self._settings.RETRAIN_INTERVAL_HOURS > 0:
            self._spawn(self._retrain_periodically(), "models-retrain")
        if self._settings.UNTRAINED_RETRY_MINUTES > 0:
            self._spawn(self._retry_untrained_periodically(), "models-retry-untrained")

    async def stop(self) -> None:
        """Cancels background work and trainings, and kills a fit under way in the worker.

        Waits at most STOP_SECONDS: a cancel that lands while the driver awaits MongoDB can be
        lost, and the training would then go on to its end; the runner refuses new fits once
        stopped, and closing the database client (next, in the lifespan) ends the read."""
        self._stopping = True
        tasks = [*self._tasks, *(s.task for s in self._slots.values() if s.task is not None)]
        for task in tasks:
            task.cancel()
        self._runner.stop()
        pending = [task for task in tasks if not task.done()]
        if pending:
            _, still = await asyncio.wait(pending, timeout=STOP_SECONDS)
            if still:
                names = sorted(task.get_name() for task in still)
                logger.warning("Stopping without waiting for {}", names)

    async def _load_then_train(self) -> None:
        """Loads saved models (in a thread), then trains those missing if MongoDB is up."""
        for slot in self._slots.values():
            await self._load(slot)
        self._loaded = True
        if self._database.connected:
            await self._train_missing()

    async def _load(self, slot: _Slot) -> None:
        """Reads a saved model; meanwhile its state is `loading`, so that a request for it is
        told to retry shortly rather than to train it."""
        name, model_type = slot.spec.name, slot.spec.model_type
        slot.loading = True
        try:
            found = await asyncio.to_thread(self._store.load, name, model_type)
            if found is not None:
                await self._prepare(slot.spec, *found)
                slot.install(*found)
        except ArtifactInvalid as exc:
            logger.warning("Saved {} model refused, it will be retrained: {}", name, exc)
            return
        finally:
            slot.loading = False
        if found is None:
            logger.info("No saved {} model; it will be trained", name)
            return
        logger.info("Loaded the {} model trained at {}", name, found[1]["trained_at"])

    async def train(self, name: ModelName) -> TrainResponse:
        """Trains one model now, or joins the training already under way."""
        slot = self._slots[name]
        task = slot.task
        if task is None or task.done():
            task = slot.task = asyncio.create_task(self._train(slot), name=f"train-{name}")
            task.add_done_callback(self._training_ended(name, asyncio.get_running_loop().time()))
        metadata = await asyncio.shield(task)
        return TrainResponse.from_metadata(name, metadata)

    async def _train(self, slot: _Slot) -> dict[str, Any]:
        spec = slot.spec
        logger.info("Training the {} model ({})", spec.name, spec.model_type)
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            data = await spec.read(self._clock())
            query_seconds = loop.time() - started
            model, fit_seconds = await self._runner.fit(spec.fit, data.arguments)
            metadata = self._metadata(spec, data, model, query_seconds, fit_seconds)
            metadata = await asyncio.to_thread(self._store.save, spec.name, model, metadata)
            await self._prepare(spec, model, metadata)
        except ServiceError as exc:
            slot.last_error = exc.detail
            logger.warning("Training the {} model failed: {}", spec.name, exc.detail)
            raise
        except Exception as exc:
            slot.last_error = f"{type(exc).__name__}: {exc}"
            logger.exception("Training the {} model failed", spec.name)
            raise ServiceError(f"Training the {spec.name} model failed: {exc}") from exc
        slot.install(model, metadata)
        logger.info(
            "Trained the {} model on {} rows (query {:.2f}s, fit {:.2f}s): {}",
            spec.name,
            data.rows,
            query_seconds,
            fit_seconds,
            metadata["metrics"],
        )
        return metadata

    def _training_ended(
        self, name: ModelName, started: float
    ) -> Callable[[asyncio.Task[dict[str, Any]]], None]:
        """The training task's done callback: tells the listeners how it ended (a training
        cancelled at shutdown did not end, so it is not told)."""

        def tell(task: asyncio.Task[dict[str, Any]]) -> None:
            if task.cancelled():
                return
            failed = task.exception() is not None
            seconds = asyncio.get_running_loop().time() - started
            ended = TrainingEnded(name, not failed, seconds, None if failed else task.result())
            for listener in self._training_listeners:
                listener(ended)

        return tell

    @staticmethod
    async def _prepare(spec: ModelSpec, model: Any, metadata: dict[str, Any]) -> None:
        if spec.prepare is not None:
            await spec.prepare(model, metadata)

    def _metadata(
        self,
        spec: ModelSpec,
        data: TrainingData,
        model: Any,
        query_seconds: float,
        fit_seconds: float,
    ) -> dict[str, Any]:
        trained_at = self._clock()
        return {
            "version": model_version(trained_at),
            "model_type": spec.model_type,
            "trained_at": trained_at.isoformat(),
            "data_window": {
                "start": data.window_start.isoformat(),
                "end": data.window_end.isoformat(),
            },
            "rows_used": data.rows,
            "metrics": dict(model.metrics),
            "evaluation": dict(getattr(model, "evaluation", {})),
            "feature_names": list(getattr(model, "feature_names", [])),
            "query_seconds": round(query_seconds, 3),
            "fit_seconds": round(fit_seconds, 3),
        }

    async def _train_missing(self) -> None:
        """Trains, one after the other, every model that is not trained yet."""
        for name, slot in self._slots.items():
            if slot.model is None:
                await self._train_logged(name)

    async def _train_logged(self, name: ModelName) -> None:
        """Background training: a failure is logged and kept in the model's state, not raised."""
        with contextlib.suppress(ServiceError):
            await self.train(name)

    def _on_database_back(self) -> None:
        """Called when MongoDB becomes reachable: trains what could not be trained without it."""
        if self._loaded and not self._stopping:
            self._spawn(self._train_missing(), "models-train-missing")

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        """Runs a background coroutine, keeping a reference so it is not garbage-collected."""
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retrain_periodically(self) -> None:
        """Retrains every model each RETRAIN_INTERVAL_HOURS, until cancelled at shutdown."""
        interval = self._settings.RETRAIN_INTERVAL_HOURS * 3600
        while True:
            await asyncio.sleep(interval)
            logger.info("Periodic retraining of every model")
            for name in self._slots:
                await self._train_logged(name)

    async def _retry_untrained_periodically(self) -> None:
        """Every UNTRAINED_RETRY_MINUTES, trains the models that are still missing (the data may
        have arrived since), so a fresh deployment needs no one to call /train."""
        interval = self._settings.UNTRAINED_RETRY_MINUTES * 60
        while True:
            await asyncio.sleep(interval)
            missing = any(s.model is None for s in self._slots.values())
            if self._database.connected and missing:
                await self._train_missing()
