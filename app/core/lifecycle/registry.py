"""The live models: loaded or trained at start-up, retrained periodically or on demand.

Each capability registers a `ModelSpec` (`spec`): how to read its training data from MongoDB
and which function fits it. Every training is a job (`jobs`), run by the `trainer` of whichever
process holds the model's lease (`lease`): a request for a model that is training joins that
job. A trained model is saved as a new version (`app.core.store`) and replaces the live one in
a single assignment, so predictions never see a half-trained model; the other processes serve
it once they see the store's `current` pointer move (`sync`)."""

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from loguru import logger
from pymongo.errors import PyMongoError

from app.core.lifecycle import lease
from app.core.lifecycle.jobs import Job, Trigger, new_job_id
from app.core.lifecycle.loading import PointerJudge, load_saved
from app.core.lifecycle.slot import ModelSlot, Training, settle
from app.core.lifecycle.spec import ModelSpec, TrainingEnded
from app.core.lifecycle.trainer import STOP_SECONDS, ModelParts, Trainer
from app.core.lifecycle.versions import listed_versions, roll_back
from app.core.names import ModelName, ModelState
from app.core.schemas import ModelStatus, TrainResponse
from app.errors import (
    Conflict,
    DatabaseUnavailable,
    ModelLoading,
    ModelNotSaved,
    ModelNotTrained,
    ServiceError,
    TrainingElsewhere,
)

_JOB_READS, _JOB_READ_PAUSE = 5, 0.2
# How long a request waits for a version another process saved to be loaded here: long enough
# for a model's load (read-your-writes), short enough that a stalled database (the recommender
# reads its catalogue before it serves) does not hold requests.
SYNC_WAIT_SECONDS = 5.0


def _log_failure(task: asyncio.Task[None]) -> None:
    """A background task that failed says so in the log, rather than ending unseen."""
    if not task.cancelled() and task.exception() is not None:
        logger.opt(exception=task.exception()).error("Background task {} failed", task.get_name())


class ModelRegistry:
    """Holds every registered model; one instance per application. It owns its background
    tasks (loading, periodic retraining, retrying untrained models): `start` and `stop`."""

    def __init__(self, parts: ModelParts) -> None:
        self._parts = parts
        self._trainer = Trainer(parts)
        self._slots: dict[ModelName, ModelSlot] = {}
        self._loaded = False
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._training_listeners: list[Callable[[TrainingEnded], None]] = []
        self._pointers = PointerJudge(parts.store)
        parts.database.on_connect(self._on_database_back)

    def register(self, spec: ModelSpec[Any, Any]) -> None:
        self._slots[spec.name] = ModelSlot(spec)

    def spec(self, name: ModelName) -> ModelSpec[Any, Any]:
        return self._slots[name].spec

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

    def training(self, name: ModelName) -> bool:
        """Whether the model is training now (a train request would join it)."""
        return self._slots[name].training

    async def seconds_since_training(self, name: ModelName) -> float | None:
        """Seconds since the model's last training ended, whatever its outcome, in this process
        or any other of the deployment (their jobs, by MongoDB's clock); None before any."""
        ended = self._slots[name].ended
        ages = [None if ended is None else (self._parts.clock() - ended).total_seconds()]
        if self._parts.database.connected:
            ages.append(await self._parts.jobs.seconds_since_finished(name))
        return min((age for age in ages if age is not None), default=None)

    def states(self) -> dict[ModelName, ModelState]:
        return {name: slot.state for name, slot in self._slots.items()}

    def version(self, name: ModelName) -> str | None:
        """The version served, None before any; cheaper than `describe`, asked per answer."""
        return self._slots[name].version

    def describe(self, name: ModelName) -> ModelStatus:
        """What the model status endpoints report, common to every model."""
        return self._slots[name].status()

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
        self._spawn(self._sync_periodically(), "models-sync")
        if self._parts.settings.RETRAIN_INTERVAL_HOURS > 0:
            self._spawn(self._retrain_periodically(), "models-retrain")
        if self._parts.settings.UNTRAINED_RETRY_MINUTES > 0:
            self._spawn(self._retry_untrained_periodically(), "models-retry-untrained")

    async def stop(self) -> None:
        """Cancels background work and trainings, and kills a fit under way in the worker.

        Waits at most STOP_SECONDS: a cancel that lands while the driver awaits MongoDB can be
        lost, and the training would then go on to its end; the fit worker refuses new fits once
        stopped, and closing the database client (next, in the lifespan) ends the read."""
        self._stopping = True
        tasks = [*self._tasks, *(s.task for s in self._slots.values() if s.task is not None)]
        for task in tasks:
            task.cancel()
        self._parts.worker.stop()
        pending = [task for task in tasks if not task.done()]
        if pending:
            _, still = await asyncio.wait(pending, timeout=STOP_SECONDS)
            if still:
                names = sorted(task.get_name() for task in still)
                logger.warning("Stopping without waiting for {}", names)

    async def sync(self, name: ModelName | None = None) -> None:
        """Serves the store's current version of every model (or of `name` alone) when another
        process (a sibling worker, another replica on the same volume, a rollback) changed it.
        Called before each request (a `stat` per model when nothing changed), so a caller that
        trained through one worker is then answered with the new version by every worker."""
        if self._loaded:
            for slot_name, slot in self._slots.items():
                if name in (None, slot_name):
                    await self._sync(slot)

    async def _sync(self, slot: ModelSlot) -> None:
        """Loads the store's current version if it changed; a request waits for that at most
        SYNC_WAIT_SECONDS (the load goes on, and the version served until then answers)."""
        name = slot.spec.name
        if slot.training or self._parts.store.pointer_stamp(name) == slot.seen:
            return
        if slot.sync_task is None or slot.sync_task.done():
            slot.sync_task = asyncio.create_task(self._sync_now(slot), name=f"sync-{name}")
            slot.sync_task.add_done_callback(_log_failure)
        await asyncio.wait({slot.sync_task}, timeout=SYNC_WAIT_SECONDS)

    async def _sync_now(self, slot: ModelSlot) -> None:
        name = slot.spec.name
        stamp = self._parts.store.pointer_stamp(name)
        current = self._parts.store.current(name)
        if stamp == slot.seen or slot.training:
            return
        if current is None:
            if stamp is not None:  # a pointer there, refused (a symbolic link, no version id)
                logger.warning(
                    "The {} model's current pointer in the store is refused (a symbolic link, "
                    "or no version id): version {} keeps serving",
                    name,
                    slot.version,
                )
                slot.seen = stamp
            return
        unexpected = self._pointers.judge(name)
        if current != slot.version:
            if unexpected is None:
                logger.info("The {} model changed in the store: serving version {}", name, current)
            await self._load(slot)
        slot.seen = stamp

    def unexpected_pointer(self, name: ModelName) -> str | None:
        """The version the store's pointer names when neither a training nor a rollback of this
        service put it there, as last judged; None otherwise."""
        return self._pointers.unexpected(name)

    async def _sync_periodically(self) -> None:
        """Keeps an idle process's models as fresh as the store (within MODEL_SYNC_SECONDS)."""
        while True:
            await asyncio.sleep(self._parts.settings.MODEL_SYNC_SECONDS)
            await self._refresh_store()
            await self.sync()

    async def _refresh_store(self) -> None:
        """Follows versions saved by other replicas (a GridFS store); while MongoDB is
        unreachable, this host's copies serve."""
        try:
            await self._parts.store.refresh()
        except ServiceError as exc:
            logger.debug("Model store not refreshed: {}", exc.detail)
        except Exception:  # whatever the store holds, the sync loop and start-up go on
            logger.exception("Model store not refreshed")

    async def _load_then_train(self) -> None:
        """Sweeps what a crash left half-written, loads saved models (in threads), then trains
        those missing if MongoDB is up."""
        swept = await self._parts.store.sweep()
        if swept:
            logger.warning("Removed {} temporary model files left by an interrupted save", swept)
        for name, slot in self._slots.items():
            await self._load(slot)
            self._pointers.judge(name)
        self._loaded = True
        if self._parts.database.connected:
            await self._train_missing("start-up")

    async def _load(self, slot: ModelSlot) -> None:
        await load_saved(self._parts.store, slot)

    async def versions(self, name: ModelName) -> list[dict[str, Any]]:
        """Every saved version of a model, newest first, and whether it is the live one."""
        return await listed_versions(self._parts.store, self._slots[name])

    async def rollback(self, name: ModelName, version: str | None) -> dict[str, Any]:
        """Serves a saved version again (by default the one before the live one) and makes it
        the store's current version; answers its metadata."""
        slot = self._slots[name]
        if slot.training:
            raise Conflict(f"The {name} model is training; roll back once the training ends.")
        holder = await self._take_lease(name, new_job_id())
        if holder is not None:
            raise Conflict(
                f"The {name} model is being trained by another process (job {holder}); roll "
                "back once the training ends, or its version would replace yours."
            )
        try:
            return await roll_back(self._parts.store, slot, version)
        finally:
            with contextlib.suppress(Exception):
                await self._parts.leases.release(name)

    def job(self, name: ModelName) -> Job | None:
        """This process's latest job for the model, as last recorded."""
        job = self._slots[name].job
        return self._parts.jobs.latest(job) if job is not None else None

    async def submit(self, name: ModelName, trigger: Trigger) -> tuple[Job, Training | None]:
        """Starts a training job, or joins the one under way: in this process (its task), or
        elsewhere in the deployment (its job, and no task), as the training lease says."""
        slot = self._slots[name]
        async with slot.lock:
            if slot.task is not None and slot.job is not None and slot.training:
                return slot.job, slot.task
            job_id = new_job_id()
            holder = await self._take_lease(name, job_id)
            if holder is not None:
                return await self._job_elsewhere(name, holder), None
            job = slot.job = await self._parts.jobs.start(job_id, name, trigger)
            task = slot.task = asyncio.create_task(
                self._trainer.run(slot, job), name=f"train-{name}"
            )
            task.add_done_callback(settle)
            task.add_done_callback(self._training_ended(name, asyncio.get_running_loop().time()))
            return job, task

    async def _job_elsewhere(self, name: ModelName, job_id: str) -> Job:
        """The lease holder's job; it records it just after taking the lease."""
        for _ in range(_JOB_READS):
            job = await self._parts.jobs.get(job_id)
            if job is not None:
                return job
            await asyncio.sleep(_JOB_READ_PAUSE)
        raise TrainingElsewhere(name, "another replica")

    async def _take_lease(self, name: ModelName, job_id: str) -> str | None:
        """The job holding the model's training lease, or None when it is ours. With MongoDB
        unreachable there is no lease to take, and no training data either: the training goes
        on and fails at its read, as it would alone. MongoDB up but failing or too slow to
        answer is a 503: training then could make two trainers."""
        try:
            return await self._parts.leases.take(name, job_id)
        except DatabaseUnavailable as exc:
            logger.warning("No training lease for the {} model: {}", name, exc.detail)
            return None
        except PyMongoError as exc:
            raise DatabaseUnavailable(exc) from exc

    async def train(self, name: ModelName, trigger: Trigger = "request") -> TrainResponse:
        """Trains one model now and waits for it, or joins the training under way."""
        job, task = await self.submit(name, trigger)
        if task is None:
            raise TrainingElsewhere(name, job.replica)
        return TrainResponse.from_metadata(name, await asyncio.shield(task))

    def _training_ended(
        self, name: ModelName, started: float
    ) -> Callable[[asyncio.Task[dict[str, Any]]], None]:
        """The training task's done callback: tells the listeners how it ended (a training
        cancelled at shutdown did not end, so it is not told)."""

        def tell(task: asyncio.Task[dict[str, Any]]) -> None:
            if task.cancelled():
                return
            error = task.exception()
            failed = error is not None
            seconds = asyncio.get_running_loop().time() - started
            metadata = None if failed else task.result()
            not_saved = isinstance(error, ModelNotSaved)
            ended = TrainingEnded(name, not failed, seconds, metadata, save_failed=not_saved)
            for listener in self._training_listeners:
                listener(ended)

        return tell

    async def _train_missing(self, trigger: Trigger) -> None:
        """Trains, one after the other, every model that is not trained yet: not here, nor in
        the store (a sibling saves before it gives up the training lease)."""
        await self._refresh_store()
        for name, slot in self._slots.items():
            await self._sync(slot)
            if slot.model is None:
                await self._train_logged(name, trigger)

    async def _train_logged(self, name: ModelName, trigger: Trigger) -> None:
        """Background training: a failure is logged and kept in the model's state, not raised.
        A missing model whose lease another process holds is looked at again once that lease
        would have expired: its holder saved it by then, or died (a crash leaves its lease)."""
        try:
            await self.train(name, trigger)
        except TrainingElsewhere:
            if trigger != "schedule" and not self._stopping:
                self._spawn(self._train_after_lease(name), f"models-after-lease-{name}")
        except ServiceError:
            pass

    async def _train_after_lease(self, name: ModelName) -> None:
        await asyncio.sleep(lease.LEASE_SECONDS)
        slot = self._slots[name]
        await self._sync(slot)
        if slot.model is None and not slot.training:
            await self._train_logged(name, "retry")

    def _on_database_back(self) -> None:
        """Called when MongoDB becomes reachable: trains what could not be trained without it."""
        if self._loaded and not self._stopping:
            self._spawn(self._train_missing("reconnect"), "models-train-missing")

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        """Runs a background coroutine, keeping a reference so it is not garbage-collected."""
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

    async def _retrain_periodically(self) -> None:
        """Retrains every model each RETRAIN_INTERVAL_HOURS, until cancelled at shutdown: not one
        a sibling trained less than half an interval ago, nor one whose data did not change
        (same transaction count and latest transaction as when it was trained)."""
        interval = self._parts.settings.RETRAIN_INTERVAL_HOURS * 3600
        while True:
            await asyncio.sleep(interval)
            logger.info("Periodic retraining of every model")
            fingerprint = await self._parts.database.data_fingerprint()
            for name, slot in self._slots.items():
                await self._sync(slot)
                if fingerprint and fingerprint == (slot.metadata or {}).get("data_fingerprint"):
                    logger.info("No new transactions since the {} model was trained", name)
                    continue
                trained_at = slot.trained_at
                if trained_at and (self._parts.clock() - trained_at).total_seconds() < interval / 2:
                    logger.info(
                        "The {} model was trained {} (by a sibling): not again", name, trained_at
                    )
                    continue
                await self._train_logged(name, "schedule")

    async def _retry_untrained_periodically(self) -> None:
        """Every UNTRAINED_RETRY_MINUTES, trains the models that are still missing (the data may
        have arrived since), so a fresh deployment needs no one to call /train."""
        interval = self._parts.settings.UNTRAINED_RETRY_MINUTES * 60
        while True:
            await asyncio.sleep(interval)
            missing = any(s.model is None for s in self._slots.values())
            if self._parts.database.connected and missing:
                await self._train_missing("retry")
