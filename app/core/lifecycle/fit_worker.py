"""Fits run in a worker process, so the server's threads never hold the GIL for a fit.

The server reads MongoDB (async), then hands the data to one long-lived worker process, which
imports the model's module, fits, and sends the fitted model back. loky's executor is used
rather than the standard library's because it can kill its worker at shutdown and reports a
worker that died; a dead worker fails that fit with a clear error and a fresh one is started
for the next fit."""

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool

from loguru import logger
from loky import ProcessPoolExecutor

from app.core.fit_entry import exit_with_parent, run_fit
from app.core.lifecycle.spec import D, FitReference, M
from app.errors import ServiceError

# BLAS and OpenMP pools in the worker: one thread each, so a fit uses one core and leaves the
# other to the server.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class WorkerDied(ServiceError):
    """The fit's worker process ended before answering (killed, or out of memory); the next
    training gets a fresh worker, so trying again is the remedy."""

    status_code = 503


class ServiceStopping(ServiceError):
    """A fit asked for while the service shuts down."""

    status_code = 503


class FitWorker:
    """One worker process, started on the first fit and kept for the next ones."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None
        self._stopped = False

    def _running_executor(self) -> ProcessPoolExecutor:
        if self._stopped:
            raise ServiceStopping("The service is stopping; the model was not fitted.")
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1,
                env=WORKER_ENV,
                initializer=exit_with_parent,
                initargs=(os.getpid(),),
            )
        return self._executor

    async def fit(self, reference: FitReference[D, M], data: D) -> tuple[M, float]:
        """The fitted model and the seconds the fit took; `WorkerDied` if the worker ended."""
        executor = self._running_executor()
        try:
            fitted: tuple[M, float] = await asyncio.wrap_future(
                executor.submit(run_fit, reference.target, data)
            )
            return fitted
        except BrokenProcessPool as exc:
            logger.error("The training worker process died: {}", exc)
            if self._executor is executor:
                self._executor = None
            executor.shutdown(wait=False, kill_workers=True)
            raise WorkerDied(
                "The training worker process ended before the fit finished (killed, or out of "
                "memory); a new worker is used for the next training."
            ) from exc

    def stop(self) -> None:
        """Kills the worker, whatever it is fitting (a fit is never worth a slow shutdown), and
        refuses fits from then on."""
        self._stopped = True
        if self._executor is not None:
            self._executor.shutdown(wait=False, kill_workers=True)
            self._executor = None
