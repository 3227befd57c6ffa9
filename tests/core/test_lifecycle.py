"""The service's life: database outages, training off the event loop, saved and corrupt models."""

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from pymongo import AsyncMongoClient
from secantus import SecantusDBServer

from app.config import Settings
from app.core.lifecycle import FitReference
from app.core.store import ArtifactStore
from app.core.store.signing import signing_key
from app.dev import embedded
from app.dev.demo.mongo import write_demo_data
from app.forecast.service import ForecastService
from tests.factories import (
    HELD_FIT_DIR,
    SEED_SPEC,
    SEEDED_DB,
    free_port,
    make_settings,
    running,
    wait_trained,
    wait_until,
)

pytestmark = pytest.mark.slow  # apps that train, or worker processes


async def _model_status(client: httpx.AsyncClient, name: str) -> dict:
    return (await client.get(f"/api/v1/{name}/status")).json()


async def _fit_started(held_fit: Path) -> None:
    async def started() -> bool:
        return (held_fit / "started").exists()

    await wait_until(started, what="the forecast fit to start")


def _ended(pid: int, seconds: float = 10) -> bool:
    """Whether the process ends (or is left a zombie to reap) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


async def _seeded_storage(directory: Path) -> None:
    """Fills a SecantusDB storage directory with demo data, then closes it."""
    server = SecantusDBServer(port=0, storage_path=str(directory))
    server.start()
    client: AsyncMongoClient = AsyncMongoClient(server.uri, tz_aware=True)
    await write_demo_data(client[SEEDED_DB], SEED_SPEC)
    await client.close()
    server.stop()


async def test_database_down_at_start_then_back(tmp_path: Path) -> None:
    await _seeded_storage(tmp_path / "db")
    port = free_port()
    settings = make_settings(f"mongodb://127.0.0.1:{port}", tmp_path)
    async with running(settings) as client:
        assert (await client.get("/api/v1/health/")).status_code == 200
        status = (await client.get("/status")).json()
        assert status["database_connected"] is False
        assert status["models_loaded"] is False
        detailed = await client.get("/api/v1/health/detailed")
        assert detailed.status_code == 503
        assert detailed.json()["status"] == "unhealthy"
        assert detailed.json()["database_status"] == "disconnected"
        train = await client.post("/api/v1/forecast/train")
        assert train.status_code == 503
        assert train.json()["detail"].startswith("The database is unreachable right now")
        predict = await client.get("/api/v1/forecast/predict")
        assert predict.status_code == 503
        assert "curl -X POST http://<host>:8000/api/v1/forecast/train" in predict.json()["detail"]

        server = SecantusDBServer(port=port, storage_path=str(tmp_path / "db"))
        server.start()
        try:
            await wait_trained(client)
            assert (await client.get("/status")).json()["database_connected"] is True
            assert (await client.get("/api/v1/health/detailed")).status_code == 200
        finally:
            server.stop()


@pytest.fixture
def held_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Makes the forecast's fit wait in the worker process until `<dir>/release` exists."""
    directory = tmp_path / "held"
    directory.mkdir()
    monkeypatch.setenv(HELD_FIT_DIR, str(directory))
    held: FitReference[Any, Any] = FitReference("tests.factories:held_forecast_fit")
    monkeypatch.setattr(ForecastService, "fit", held)
    return directory


async def test_fits_run_in_a_worker_process_while_health_answers(
    settings: Settings, held_fit: Path
) -> None:
    async with running(settings) as client:
        await _fit_started(held_fit)
        for _ in range(10):
            response = await asyncio.wait_for(client.get("/api/v1/health/"), timeout=5)
            assert response.status_code == 200
        status = await _model_status(client, "forecast")
        predict = await client.get("/api/v1/forecast/predict")
        (held_fit / "release").touch()
        await wait_trained(client)
    worker = int((held_fit / "started").read_text())

    assert worker != os.getpid()
    assert _ended(worker), "shutdown leaves no worker process behind"
    assert status["state"] == "training"
    assert status["is_trained"] is False
    assert predict.status_code == 503
    assert "(state: training)" in predict.json()["detail"]


async def test_shutdown_during_a_fit_does_not_wait_for_it(
    settings: Settings, held_fit: Path
) -> None:
    """The held fit would take a minute; shutdown kills the worker instead of waiting (docker
    kills a container 10 s after SIGTERM)."""
    app_running = running(settings)
    await app_running.__aenter__()
    await _fit_started(held_fit)

    await asyncio.wait_for(app_running.__aexit__(None, None, None), timeout=15)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.MONGODB_URL)
    job = await mongo[settings.DATABASE_NAME][settings.JOBS_COLLECTION].find_one(
        {"model": "forecast"}
    )
    await mongo.close()

    assert _ended(int((held_fit / "started").read_text()))
    assert not (held_fit / "release").exists()
    assert job is not None
    assert job["state"] == "failed"
    assert job["error"].startswith("The service stopped during the training")


async def test_a_killed_worker_fails_that_training_and_the_next_one_works(
    settings: Settings, held_fit: Path
) -> None:
    async with running(settings) as client:
        await _fit_started(held_fit)
        training = asyncio.create_task(client.post("/api/v1/forecast/train"))
        await asyncio.sleep(0.2)
        os.kill(int((held_fit / "started").read_text()), signal.SIGKILL)
        failed = await asyncio.wait_for(training, timeout=60)
        status = await _model_status(client, "forecast")
        (held_fit / "release").touch()
        retried = await client.post("/api/v1/forecast/train")

    assert failed.status_code == 503
    assert failed.json()["detail"].startswith("The training worker process ended before the fit")
    assert status["state"] == "failed"
    assert retried.status_code == 200


@pytest.mark.usefixtures("seeded_db")
async def test_concurrent_train_requests_share_one_training(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    async with running(make_settings(mongo_server.uri, tmp_path)) as client:
        await wait_trained(client)
        first, second = await asyncio.gather(
            client.post("/api/v1/anomaly/train"), client.post("/api/v1/anomaly/train")
        )

    assert first.status_code == second.status_code == 200
    assert first.json()["trained_at"] == second.json()["trained_at"]
    assert first.json()["message"].startswith("The anomaly model was trained on ")


@pytest.mark.usefixtures("seeded_db")
async def test_saved_models_are_reused_and_a_corrupt_one_is_retrained(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path)
    async with running(settings) as client:
        await wait_trained(client)
        before = {name: await _model_status(client, name) for name in training_names()}
    store = ArtifactStore(
        settings.MODEL_SAVE_PATH, signing_key(None, settings.MODEL_SIGNING_KEY_FILE)
    )
    live = store.current("forecast")
    (settings.MODEL_SAVE_PATH / "forecast" / str(live) / "model.joblib").write_bytes(b"not a model")

    async with running(settings) as client:
        await wait_trained(client)
        after = {name: await _model_status(client, name) for name in training_names()}

    assert after["anomaly"]["last_retrain_time"] == before["anomaly"]["last_retrain_time"]
    assert after["recommend"]["last_retrain_time"] == before["recommend"]["last_retrain_time"]
    assert after["forecast"]["last_retrain_time"] > before["forecast"]["last_retrain_time"]
    assert store.current("forecast") != live
    assert store.load_current("forecast", "auto") is not None


def training_names() -> tuple[str, ...]:
    return ("forecast", "anomaly", "recommend")


async def test_empty_database_answers_how_to_get_a_model(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path, DATABASE_NAME="empty")
    async with running(settings) as client:

        async def forecast_failed() -> bool:
            return (await _model_status(client, "forecast"))["state"] == "failed"

        await wait_until(forecast_failed, what="the first training to fail")
        predict = await client.get("/api/v1/forecast/predict")
        train = await client.post("/api/v1/forecast/train")
        recommend = await client.get("/api/v1/recommend/user/u1")
        empty_batch = await client.post("/api/v1/anomaly/detect", json={"data_points": []})
        status = (await client.get("/status")).json()
        recommend_status = await _model_status(client, "recommend")

    assert predict.status_code == 503
    assert predict.json()["detail"].startswith("The forecast model is not trained yet (state: ")
    assert train.status_code == 409
    assert train.json()["detail"].startswith("Forecasting needs at least 28 days of sales history")
    assert recommend.status_code == 503
    assert empty_batch.json() == []
    assert status["last_retrain_time"] == "N/A"
    assert recommend_status["last_retrain_time"] == "N/A"
    assert recommend_status["n_components"] == 50


async def test_models_are_trained_once_data_arrives(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(
        mongo_server.uri, tmp_path, DATABASE_NAME="late_data", UNTRAINED_RETRY_MINUTES=1 / 60
    )
    async with running(settings) as client:

        async def recommend_failed() -> bool:
            return (await _model_status(client, "recommend"))["state"] == "failed"

        await wait_until(recommend_failed, what="the first trainings to fail")
        mongo: AsyncMongoClient = AsyncMongoClient(mongo_server.uri, tz_aware=True)
        await write_demo_data(mongo["late_data"], SEED_SPEC)
        await mongo.close()

        await wait_trained(client)


@pytest.mark.usefixtures("seeded_db")
async def test_periodic_retraining_replaces_models_once_data_changed(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    await mongo.drop_database("periodic")
    await write_demo_data(mongo["periodic"], SEED_SPEC)
    settings = make_settings(
        mongo_server.uri, tmp_path, DATABASE_NAME="periodic", RETRAIN_INTERVAL_HOURS=1 / 3600
    )
    async with running(settings) as client:
        await wait_trained(client)
        first = (await _model_status(client, "anomaly"))["last_retrain_time"]
        await asyncio.sleep(4)  # four intervals, without new data
        unchanged = (await _model_status(client, "anomaly"))["last_retrain_time"]
        sale = await mongo["periodic"].transactions.find_one({}, projection={"_id": 0})
        await mongo["periodic"].transactions.insert_one(sale or {})

        async def retrained() -> bool:
            return (await _model_status(client, "anomaly"))["last_retrain_time"] != first

        await wait_until(retrained, what="a periodic retraining")
    await mongo.close()

    assert unchanged == first


def _stopped(pid: int) -> bool:
    """Whether SIGSTOP has taken hold: kill() returns before every thread of the target stops,
    and a request sent in between can still be answered (seen once in CI)."""
    tasks = Path(f"/proc/{pid}/task").glob("*/stat")
    return all(stat.read_text().rpartition(")")[2].split()[0] == "T" for stat in tasks)


async def test_a_stalled_database_answers_503_instead_of_hanging(tmp_path: Path) -> None:
    """A server that accepts connections but stops answering (frozen, partitioned) must not
    hold callers: request-path calls are bounded by MONGODB_TIMEOUT_MS."""
    process, url = await asyncio.to_thread(
        embedded.start, tmp_path / "db", free_port(), tmp_path / "secantus.log"
    )
    try:
        async with running(make_settings(url, tmp_path, DATABASE_NAME="empty")) as client:

            async def connected() -> bool:
                return (await client.get("/status")).json()["database_connected"]

            await wait_until(connected, what="the database to be seen")
            os.kill(process.pid, signal.SIGSTOP)
            try:
                await wait_until(
                    lambda: asyncio.to_thread(_stopped, process.pid), 10, "the server to stop"
                )
                detailed = await asyncio.wait_for(client.get("/api/v1/health/detailed"), timeout=20)
                status = (await client.get("/status")).json()
            finally:
                os.kill(process.pid, signal.SIGCONT)
    finally:
        await asyncio.to_thread(embedded.stop, process)

    assert detailed.status_code == 503
    assert detailed.json()["database_status"] == "disconnected"
    assert status["database_connected"] is False
