"""The training lease and abandoned jobs, judged by MongoDB's clock: replicas whose clocks
disagree by more than the lease still keep one trainer per model, and agree on which jobs were
abandoned."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from app.core.clock import Clock
from app.core.lifecycle.jobs import STALE_SECONDS, JobLog
from app.core.lifecycle.lease import LEASE_SECONDS, Leases
from tests.factories import server_now

Replica = Callable[[Clock], tuple[JobLog, Leases]]
_SKEW = timedelta(minutes=10)  # far more than the lease and the staleness bound


@pytest.fixture
def collection() -> str:
    return f"jobs_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def replica(db: AsyncDatabase[dict[str, Any]], collection: str) -> Replica:
    """A replica's job log and leases on the test database, composed as `create_app` does,
    with its own clock."""

    def build(clock: Clock) -> tuple[JobLog, Leases]:
        jobs = JobLog(db, collection, 5.0, clock)
        return jobs, Leases(db, collection, jobs.replica, 5.0)

    return build


@pytest.fixture
def leases(db: AsyncDatabase[dict[str, Any]], collection: str) -> AsyncCollection[dict[str, Any]]:
    return db[f"{collection}_leases"]


def _clock(offset: timedelta) -> Clock:
    return lambda: server_now() + offset


async def test_a_live_lease_is_renewed_by_its_holder_kept_from_others_then_released(
    replica: Replica, leases: AsyncCollection[dict[str, Any]]
) -> None:
    (_, first), (_, second) = replica(server_now), replica(server_now)

    taken = await first.take("forecast", "job-1")
    expiry = (await leases.find_one({"_id": "forecast"}) or {})["expires_at"]
    refused = await second.take("forecast", "job-2")
    await asyncio.sleep(0.01)
    renewed = await first.take("forecast", "job-1")
    renewed_expiry = (await leases.find_one({"_id": "forecast"}) or {})["expires_at"]
    await first.release("forecast")
    taken_after_release = await second.take("forecast", "job-2")

    assert taken is None
    assert refused == "job-1"
    assert renewed is None
    assert renewed_expiry > expiry
    assert taken_after_release is None


async def test_an_expired_lease_is_taken_over(
    replica: Replica, leases: AsyncCollection[dict[str, Any]]
) -> None:
    _, taker = replica(server_now)
    expired = server_now() - timedelta(seconds=1)
    await leases.insert_one(
        {"_id": "anomaly", "holder": "crashed:1", "job": "lost", "expires_at": expired}
    )

    taken = await taker.take("anomaly", "job-3")
    lease = await leases.find_one({"_id": "anomaly"}) or {}

    assert taken is None
    assert lease["job"] == "job-3"
    assert lease["expires_at"] > server_now() + timedelta(seconds=LEASE_SECONDS - 5)


async def test_concurrent_first_takes_give_the_lease_to_one(replica: Replica) -> None:
    takers = [replica(server_now)[1] for _ in range(8)]

    answers = await asyncio.gather(*(t.take("recommend", f"job-{i}") for i, t in enumerate(takers)))

    assert answers.count(None) == 1
    assert {answer for answer in answers if answer is not None} == {f"job-{answers.index(None)}"}


async def test_a_replica_whose_clock_runs_fast_neither_takes_a_live_lease_nor_fails_its_job(
    replica: Replica,
) -> None:
    slow_jobs, slow_leases = replica(_clock(-_SKEW))
    fast_jobs, fast_leases = replica(_clock(_SKEW))
    job = await slow_jobs.start("job-slow", "forecast", "request")

    taken = await slow_leases.take("forecast", job.id)
    refused = await fast_leases.take("forecast", "job-fast")
    seen = await fast_jobs.get(job.id)
    listed = await fast_jobs.recent(10, "forecast")

    assert taken is None
    assert refused == job.id
    assert seen is not None
    assert seen.state == "running"
    assert [(j.id, j.state) for j in listed] == [(job.id, "running")]


async def test_a_job_not_renewed_by_mongodbs_clock_is_abandoned_whatever_the_clocks_say(
    replica: Replica, db: AsyncDatabase[dict[str, Any]], collection: str
) -> None:
    """The dead replica's clock ran fast (its `updated_at` is ahead), the reader's runs slow:
    MongoDB's `renewed_at` alone decides. A job written before `renewed_at` existed is judged
    by its `updated_at`."""
    reader, _ = replica(_clock(-_SKEW))
    last_renewal = server_now() - timedelta(seconds=STALE_SECONDS + 60)
    dead = {
        "_id": "dead",
        "model": "forecast",
        "trigger": "schedule",
        "replica": "dead-host:9",
        "created_at": last_renewal + _SKEW,
        "updated_at": last_renewal + _SKEW,
        "state": "running",
        "stage": "fitting",
        "renewed_at": last_renewal,
    }
    older: dict[str, Any] = {**dead, "_id": "older", "updated_at": last_renewal}
    del older["renewed_at"]
    await db[collection].insert_many([dead, older])

    seen = [await reader.get(job_id) for job_id in ("dead", "older")]
    listed = await reader.recent(10)

    assert [job.state if job else None for job in seen] == ["failed", "failed"]
    assert all(
        job.error and job.error.startswith("Abandoned: replica dead-host:9") for job in listed
    )
    assert len(listed) == 2


async def test_time_since_a_models_last_training_is_judged_by_mongodbs_clock(
    replica: Replica,
) -> None:
    """What the training cooldown reads: a job that a fast replica finished just now is recent
    for a slow one too."""
    fast_jobs, _ = replica(_clock(_SKEW))
    slow_jobs, _ = replica(_clock(-_SKEW))
    before = await slow_jobs.seconds_since_finished("forecast")
    job = await fast_jobs.start("job-fast", "forecast", "request")
    await fast_jobs.finish(job, {"model": "forecast"}, None)

    seen = await slow_jobs.seconds_since_finished("forecast")

    assert before is None
    assert seen is not None
    assert 0 <= seen < 60
