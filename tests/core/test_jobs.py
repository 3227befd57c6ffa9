"""Training jobs: a long training answers 202 with a job any replica can report on; a request
during a training joins it, here or in another replica; a job whose replica died is failed."""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from secantus import SecantusDBServer

from app.core.lifecycle import lease
from tests import factories
from tests.factories import SEEDED_DB, make_settings, running, trained, wait_until

pytestmark = pytest.mark.slow  # every test trains


async def _finished(client: httpx.AsyncClient, location: str) -> dict[str, Any]:
    job: dict[str, Any] = {}

    async def done() -> bool:
        job.update((await client.get(location)).json())
        return bool(job["state"] != "running")

    await wait_until(done, what="the job to finish")
    return job


@pytest.mark.usefixtures("seeded_db")
async def test_a_training_longer_than_the_wait_answers_202_then_its_job_has_the_result(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    async with trained(make_settings(mongo_server.uri, tmp_path, TRAIN_WAIT_SECONDS=0)) as client:
        first, second = await asyncio.gather(
            client.post("/api/v1/anomaly/train"), client.post("/api/v1/anomaly/train")
        )
        job = await _finished(client, first.headers["Location"])
        status = (await client.get("/api/v1/anomaly/status")).json()
        listed = (await client.get("/api/v1/jobs", params={"model": "anomaly"})).json()["jobs"]
        everything = (await client.get("/api/v1/jobs")).json()["jobs"]

    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert first.headers["Location"] == f"/api/v1/jobs/{first.json()['id']}"
    assert first.json()["message"].startswith("The anomaly model is training; follow job ")
    assert job["state"] == "succeeded"
    assert job["stage"] == "done"
    assert job["trigger"] == "request"
    assert job["result"]["version"] == status["version"]
    assert set(job["timings"]) == {"query_seconds", "fit_seconds"}
    assert listed[0]["id"] == job["id"]
    assert listed[1]["trigger"] in {"start-up", "reconnect"}  # whichever saw MongoDB first
    assert {j["model"] for j in everything} == {"forecast", "anomaly", "recommend"}


async def test_a_failed_training_is_a_failed_job_with_its_reason(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(
        mongo_server.uri, tmp_path, TRAIN_WAIT_SECONDS=0, DATABASE_NAME="empty"
    )
    async with running(settings) as client:
        accepted = await client.post("/api/v1/forecast/train")
        job = await _finished(client, accepted.headers["Location"])

    assert accepted.status_code == 202
    assert job["state"] == "failed"
    assert job["status_code"] == 409
    assert job["error"].startswith("Forecasting needs at least 28 days of sales history")


@pytest.mark.usefixtures("seeded_db")
async def test_another_replicas_training_is_joined_and_a_dead_ones_is_failed(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    """The other replica's lease and jobs are dated by MongoDB's clock, months after the app's
    (`test_clock`): the lease and the jobs' liveness are judged by MongoDB's."""
    settings = make_settings(mongo_server.uri, tmp_path)
    now = factories.test_clock()
    server_now = factories.server_now()
    live = {
        "model": "recommend",
        "trigger": "schedule",
        "replica": "other-host:7",
        "created_at": now,
        "updated_at": now,
        "state": "running",
        "stage": "fitting",
        "finished_at": None,
        "timings": {},
        "result": None,
        "error": None,
        "status_code": None,
        "renewed_at": server_now,
    }
    abandoned = {**live, "model": "forecast", "renewed_at": server_now - timedelta(minutes=5)}
    async with trained(settings) as client:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.uri)
        jobs = mongo[SEEDED_DB][settings.JOBS_COLLECTION]
        await jobs.insert_many([{"_id": "live-job", **live}, {"_id": "dead-job", **abandoned}])
        lease = {
            "holder": "other-host:7",
            "job": "live-job",
            "expires_at": server_now + timedelta(minutes=1),
        }
        await mongo[SEEDED_DB][f"{settings.JOBS_COLLECTION}_leases"].insert_one(
            {"_id": "recommend", **lease}
        )
        joined = await client.post("/api/v1/recommend/train")
        rollback = await client.post("/api/v1/models/recommend/rollback")
        dead = (await client.get("/api/v1/jobs/dead-job")).json()
        trained_again = await client.post("/api/v1/forecast/train")
        unknown = await client.get("/api/v1/jobs/no-such-job")
        await mongo.close()

    assert joined.status_code == 202
    assert joined.json()["id"] == "live-job"
    assert joined.json()["replica"] == "other-host:7"
    assert rollback.status_code == 409
    assert "being trained by another process (job live-job)" in rollback.json()["detail"]
    assert dead["state"] == "failed"
    assert dead["error"].startswith("Abandoned: replica other-host:7 stopped renewing it")
    assert trained_again.status_code == 200
    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith("No training job 'no-such-job'")


@pytest.mark.usefixtures("seeded_db")
async def test_fifty_concurrent_train_requests_make_one_training(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    async with trained(make_settings(mongo_server.uri, tmp_path)) as client:
        answers = await asyncio.gather(*(client.post("/api/v1/anomaly/train") for _ in range(50)))
        jobs = (await client.get("/api/v1/jobs", params={"model": "anomaly"})).json()["jobs"]

    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.json()["version"] for answer in answers}) == 1
    assert jobs[0]["trigger"] == "request"
    assert len(jobs) == 2  # the start-up training, and one for the fifty requests


@pytest.mark.usefixtures("seeded_db")
async def test_a_training_whose_reads_outlast_their_bound_fails_and_the_model_stays(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path)
    async with trained(settings) as client:
        before = (await client.get("/api/v1/forecast/status")).json()["version"]
        settings.TRAINING_TIMEOUT_SECONDS = 0.001
        train = await client.post("/api/v1/forecast/train")
        after = (await client.get("/api/v1/forecast/status")).json()

    assert train.status_code == 503
    assert "(TRAINING_TIMEOUT_SECONDS), so the training was stopped" in train.json()["detail"]
    assert after["version"] == before
    assert after["state"] == "trained"


@pytest.mark.usefixtures("seeded_db")
async def test_a_lease_left_by_a_crashed_process_delays_a_missing_model_only_until_it_expires(
    mongo_server: SecantusDBServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease, "LEASE_SECONDS", 2.0)
    settings = make_settings(mongo_server.uri, tmp_path)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.uri)
    expires = factories.server_now() + timedelta(seconds=3)
    await mongo[SEEDED_DB][f"{settings.JOBS_COLLECTION}_leases"].insert_one(
        {"_id": "forecast", "holder": "crashed:1", "job": "lost-job", "expires_at": expires}
    )
    await mongo.close()
    async with trained(settings) as client:
        jobs = (await client.get("/api/v1/jobs", params={"model": "forecast"})).json()["jobs"]

    assert [job["trigger"] for job in jobs] == ["retry"]
