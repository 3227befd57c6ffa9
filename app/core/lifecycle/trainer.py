"""One training, run as a job: read the data (bounded), fit in the worker process, save a new
version, ready it and make it live; the job and the training lease renewed while it runs, the
job finished with its result or error, the lease released at the end."""

import asyncio
import contextlib
import errno
import shutil
from dataclasses import dataclass
from typing import Any

from loguru import logger
from pymongo.errors import PyMongoError

from app.config import Settings
from app.core.clock import Clock
from app.core.db import Database
from app.core.lifecycle.fit_worker import FitWorker, ServiceStopping
from app.core.lifecycle.jobs import HEARTBEAT_SECONDS, Job, JobLog
from app.core.lifecycle.lease import Leases
from app.core.lifecycle.slot import ModelSlot
from app.core.lifecycle.spec import ModelSpec, TrainingData
from app.core.schemas import TrainResponse
from app.core.store import ModelStore, new_version, pickled_size
from app.errors import DatabaseTimeout, ModelNotSaved, ServiceError

STOP_SECONDS = 2.0  # how long shutdown waits for trainings to end once cancelled
_STOPPED = "The service stopped during the training; the model in service is unchanged."


@dataclass(frozen=True)
class ModelParts:
    """What the registry and its trainings work with, built once by the application."""

    settings: Settings
    database: Database
    store: ModelStore
    worker: FitWorker
    jobs: JobLog
    leases: Leases
    clock: Clock


class Trainer:
    """Runs the trainings the registry starts; one instance per registry."""

    def __init__(self, parts: ModelParts) -> None:
        self._parts = parts

    async def run(self, slot: ModelSlot, job: Job) -> dict[str, Any]:
        """The training as a job: renewed while it runs, finished with its result or error,
        then its lease released (after `finish`, so that a sibling's cooldown sees it)."""
        heartbeat = asyncio.create_task(self._renew(job), name=f"job-{job.id}")
        try:
            try:
                metadata = await self._train(slot, job)
            except BaseException as exc:
                error = exc if isinstance(exc, Exception) else ServiceStopping(_STOPPED)
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(
                        self._parts.jobs.finish(job, None, error), STOP_SECONDS / 2
                    )
                raise
            finally:
                heartbeat.cancel()
            result = TrainResponse.from_metadata(slot.spec.name, metadata).model_dump(mode="json")
            await self._parts.jobs.finish(job, result, None)
            return metadata
        finally:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._parts.leases.release(slot.spec.name), STOP_SECONDS / 3)

    async def _renew(self, job: Job) -> None:
        """Renews the job and the training lease while the training runs."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self._parts.jobs.update(job)
            try:
                holder = await self._parts.leases.take(job.model, job.id)
            except (ServiceError, PyMongoError) as exc:
                logger.warning("Could not renew the training lease of job {}: {}", job.id, exc)
                continue
            if holder is not None:
                logger.error(
                    "The {} model's training lease expired and job {} holds it now: two "
                    "trainings run (MongoDB was unreachable longer than the lease)",
                    job.model,
                    holder,
                )

    async def _train(self, slot: ModelSlot, job: Job) -> dict[str, Any]:
        spec = slot.spec
        logger.info("Training the {} model ({}), job {}", spec.name, spec.model_type, job.id)
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            fingerprint = await self._parts.database.data_fingerprint()
            data = await self._read(spec)
            query_seconds = loop.time() - started
            read_timings = {**data.timings, "query_seconds": query_seconds}
            await self._parts.jobs.update(job, stage="fitting", timings=read_timings)
            model, fit_seconds = await self._parts.worker.fit(spec.fit, data.data)
            metadata = self._metadata(spec, data, model, query_seconds, fit_seconds)
            metadata["data_fingerprint"] = fingerprint
            await self._parts.jobs.update(
                job,
                stage="saving",
                timings={**read_timings, "fit_seconds": fit_seconds},
            )
            metadata = await self._save(slot, model, metadata)
            await self._parts.jobs.update(job, stage="preparing")
            await spec.prepare_served(model, metadata)
        except ServiceError as exc:
            slot.last_error = exc.detail
            logger.warning("Training the {} model failed: {}", spec.name, exc.detail)
            raise
        except Exception as exc:
            slot.last_error = f"Training failed unexpectedly ({type(exc).__name__}); see the log."
            logger.exception("Training the {} model failed", spec.name)
            raise ServiceError(f"Training the {spec.name} model failed: {slot.last_error}") from exc
        finally:
            slot.ended = self._parts.clock()
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

    async def _read(self, spec: ModelSpec[Any, Any]) -> TrainingData[Any]:
        """The training data, read within TRAINING_TIMEOUT_SECONDS, all calls together."""
        seconds = self._parts.settings.TRAINING_TIMEOUT_SECONDS
        try:
            async with asyncio.timeout(seconds):
                return await spec.read(self._parts.clock())
        except TimeoutError:
            raise DatabaseTimeout(
                f"The {spec.name} model's training data was not read within {seconds:g} s "
                "(TRAINING_TIMEOUT_SECONDS), so the training was stopped; the model in service "
                "stays. The database may be busy or stalled: try again later, or raise "
                "TRAINING_TIMEOUT_SECONDS if it is just slow."
            ) from None

    async def _save(self, slot: ModelSlot, model: Any, metadata: dict[str, Any]) -> dict[str, Any]:
        """Saves a new version. A model that cannot be saved is not served, here or anywhere:
        serving it in this process alone would split the workers between two versions. The
        training fails with `ModelNotSaved`, saying why and what stays in service."""
        name = slot.spec.name
        try:
            return await self._parts.store.save(name, model, metadata)
        except Exception as exc:
            reason, status = await self._save_failure(model, exc)
            live = slot.version
            kept = f"version {live} stays in service" if live else "no version is served yet"
            detail = (
                f"The new {name} model was trained but could not be saved, so it is not served "
                f"({kept}): {reason}. Fix the model store and train again."
            )
            logger.opt(exception=exc).error(
                "The new {} model could not be saved; it is not served: {}", name, reason
            )
            raise ModelNotSaved(detail, status) from exc

    async def _save_failure(self, model: Any, exc: Exception) -> tuple[str, int]:
        """Why a save failed, in words a person can act on (no paths), and the status code."""
        if isinstance(exc, ServiceError):
            return exc.detail.rstrip("."), exc.status_code
        if not isinstance(exc, OSError):
            return f"{type(exc).__name__}; see the log", 500
        if exc.errno == errno.ENOSPC:
            return await self._full(model), 507
        return exc.strerror or type(exc).__name__, 507

    async def _full(self, model: Any) -> str:
        """The sentence for a full model folder: how much is free and how much was needed,
        when they can be told."""
        folder = "the model folder is full"
        try:
            free = shutil.disk_usage(self._parts.settings.MODEL_SAVE_PATH).free
        except OSError:
            return folder
        try:
            needed = await asyncio.to_thread(pickled_size, model)
        except Exception:  # the size is a courtesy: say what is known
            return f"{folder}: {_size(free)} free"
        return f"{folder}: {_size(free)} free, {_size(needed)} needed"

    def _metadata(
        self,
        spec: ModelSpec[Any, Any],
        data: TrainingData[Any],
        model: Any,
        query_seconds: float,
        fit_seconds: float,
    ) -> dict[str, Any]:
        trained_at = self._parts.clock()
        return {
            "version": new_version(trained_at),
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
            **{name: round(value, 3) for name, value in data.timings.items()},
            "query_seconds": round(query_seconds, 3),
            "fit_seconds": round(fit_seconds, 3),
        }


def _size(size: int) -> str:
    """A size in bytes as a person reads it: '41 MB', '0.4 MB', '12 KB'."""
    if size >= 10_000_000:
        return f"{size / 1_000_000:.0f} MB"
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(size // 1000, 1) if size else 0} KB"
