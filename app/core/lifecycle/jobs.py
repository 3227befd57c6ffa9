"""Training jobs: every training, whoever asked for it, is a job recorded in MongoDB, so that any
replica answers about any job (which replica trains is decided by the lease, `lease.py`).

A running job is renewed every HEARTBEAT_SECONDS; one that has not been renewed for
STALE_SECONDS belongs to a replica that died, and is reported as failed. Another replica's job is
judged by MongoDB's clock (each write sets `renewed_at` to the server's `$$NOW`, each read
compares it with the server's now), so replicas whose clocks disagree agree on which jobs are
abandoned; `created_at`, `updated_at` and `finished_at` are the writer's clock, as reported.
This process's own jobs are judged by its own clock, which wrote them. Writes are bounded and
best effort: a job is also kept in this process's memory, so a training goes on, and its
caller gets its answer, while MongoDB is down."""

import os
import secrets
import socket
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from loguru import logger
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from app.core.clock import Clock
from app.core.db import NOW_MILLIS, database_errors, older_than
from app.errors import ServiceError

JobState = Literal["running", "succeeded", "failed"]
Stage = Literal["reading", "fitting", "saving", "preparing", "done"]
Trigger = Literal["request", "start-up", "schedule", "retry", "reconnect"]
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 60.0
_KEPT_IN_MEMORY = 200
_KEPT_DAYS = 30
# Stored beside a job's fields, never one of them: when MongoDB last wrote it, and (on reads)
# whether it is stale by MongoDB's clock. A job written before `renewed_at` existed falls back
# to its writer's `updated_at`.
_SERVER_FIELDS = ("_id", "renewed_at", "stale")
_RENEWED = {"renewed_at": "$$NOW"}
_SET_STALE: dict[str, Any] = {
    "$set": {
        "stale": {
            "$and": [
                {"$eq": ["$state", "running"]},
                older_than({"$ifNull": ["$renewed_at", "$updated_at"]}, STALE_SECONDS),
            ]
        }
    }
}


def new_job_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Job:
    id: str
    model: str
    trigger: Trigger
    replica: str
    created_at: datetime
    updated_at: datetime
    state: JobState = "running"
    stage: Stage = "reading"
    finished_at: datetime | None = None
    timings: dict[str, float] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    status_code: int | None = None

    @classmethod
    def seen_in(cls, document: dict[str, Any]) -> "Job":
        """A job read with `_SET_STALE`: failed if its replica stopped renewing it."""
        fields = {k: v for k, v in document.items() if k not in _SERVER_FIELDS}
        job = cls(**fields, id=document["_id"])
        return job.abandoned() if document.get("stale") else job

    def document(self) -> dict[str, Any]:
        fields = asdict(self)
        return {"_id": fields.pop("id"), **fields}

    def as_seen(self, now: datetime) -> "Job":
        """One of this process's jobs, judged by the clock that renewed it."""
        if self.state != "running" or now - self.updated_at < timedelta(seconds=STALE_SECONDS):
            return self
        return self.abandoned()

    def abandoned(self) -> "Job":
        """A running job whose replica stopped renewing it is failed, whatever it says."""
        return replace(
            self,
            state="failed",
            error=f"Abandoned: replica {self.replica} stopped renewing it (stopped or killed) "
            "during the training.",
        )


class JobLog:
    """Records this process's jobs in MongoDB (best effort) and in memory, and reads anyone's."""

    def __init__(
        self, db: AsyncDatabase[dict[str, Any]], collection: str, seconds: float, clock: Clock
    ) -> None:
        self._collection = db[collection]
        self._seconds = seconds  # the bound of every call (MONGODB_TIMEOUT_MS)
        self._clock = clock
        self._local: OrderedDict[str, Job] = OrderedDict()
        # Host and process, and a suffix that tells apart two instances in one process.
        self.replica = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"

    async def start(self, job_id: str, model: str, trigger: Trigger) -> Job:
        now = self._clock()
        job = Job(job_id, model, trigger, self.replica, now, now)
        self._keep(job)
        await self._write("record", job, prune=True)
        return job

    async def update(self, job: Job, **changes: Any) -> Job:
        """The job with `changes` (and renewed), kept and written."""
        updated = replace(self._local.get(job.id, job), **changes, updated_at=self._clock())
        self._keep(updated)
        await self._write("update", updated)
        return updated

    async def finish(self, job: Job, result: dict[str, Any] | None, error: Exception | None) -> Job:
        """Marks the job succeeded with its result, or failed with a sentence and the status an
        API caller got."""
        if error is None:
            return await self.update(
                job, state="succeeded", stage="done", finished_at=self._clock(), result=result
            )
        detail = error.detail if isinstance(error, ServiceError) else type(error).__name__
        status = error.status_code if isinstance(error, ServiceError) else 500
        return await self.update(
            job, state="failed", finished_at=self._clock(), error=detail, status_code=status
        )

    def latest(self, job: Job) -> Job:
        """This process's latest record of one of its jobs."""
        return self._local.get(job.id, job)

    async def get(self, job_id: str) -> Job | None:
        """This process's own record first (the freshest), else MongoDB's."""
        if job_id in self._local:
            return self._local[job_id].as_seen(self._clock())
        async with database_errors(self._seconds):
            cursor = await self._collection.aggregate([{"$match": {"_id": job_id}}, _SET_STALE])
            documents = await cursor.to_list(1)
        return Job.seen_in(documents[0]) if documents else None

    async def recent(self, limit: int, model: str | None = None) -> list[Job]:
        """The latest jobs, newest first, from MongoDB, with this process's own records."""
        query = {"model": model} if model else {}
        pipeline: list[dict[str, Any]] = [
            {"$match": query},
            {"$sort": {"created_at": DESCENDING}},
            {"$limit": limit},
            _SET_STALE,
        ]
        async with database_errors(self._seconds):
            cursor = await self._collection.aggregate(pipeline)
            jobs = {d["_id"]: Job.seen_in(d) async for d in cursor}
        now = self._clock()
        jobs |= {k: v.as_seen(now) for k, v in self._local.items() if k in jobs}
        return list(jobs.values())

    async def seconds_since_finished(self, model: str) -> float | None:
        """Seconds since the model's latest finished job ended, in any replica, by MongoDB's
        clock (its last write's `renewed_at`; a job written before that field existed counts
        from its replica's `finished_at`); None if none, or if MongoDB does not answer."""
        ended = {"$ifNull": ["$renewed_at", "$finished_at"]}
        pipeline: list[dict[str, Any]] = [
            {"$match": {"model": model, "finished_at": {"$ne": None}}},
            {"$project": {"_id": 0, "ended": {"$toLong": ended}}},
            {"$sort": {"ended": DESCENDING}},
            {"$limit": 1},
            {"$project": {"ms": {"$subtract": [NOW_MILLIS, "$ended"]}}},
        ]
        try:
            async with database_errors(self._seconds):
                found = await (await self._collection.aggregate(pipeline)).to_list(1)
        except ServiceError:
            return None
        return max(0.0, found[0]["ms"] / 1000) if found else None

    def _keep(self, job: Job) -> None:
        self._local[job.id] = job
        self._local.move_to_end(job.id)
        while len(self._local) > _KEPT_IN_MEMORY:
            self._local.popitem(last=False)

    async def _write(self, what: str, job: Job, prune: bool = False) -> None:
        try:
            async with database_errors(self._seconds):
                written = {"$mergeObjects": [{"$literal": job.document()}, _RENEWED]}
                await self._collection.update_one(
                    {"_id": job.id}, [{"$replaceWith": written}], upsert=True
                )
                if prune:
                    old = job.created_at - timedelta(days=_KEPT_DAYS)
                    await self._collection.delete_many({"created_at": {"$lt": old}})
        except (ServiceError, PyMongoError) as exc:
            logger.warning("Could not {} training job {} in MongoDB: {}", what, job.id, exc)
