"""Saved model versions: listed, rolled back (and kept across a restart), and a model that cannot
be saved is not served: the version the store's pointer names stays."""

import errno
import re
from pathlib import Path

import httpx
import pytest
from secantus import SecantusDBServer

from app.core.store import ArtifactStore
from tests.factories import make_settings, running, trained, wait_trained, wait_until

pytestmark = pytest.mark.slow  # every test trains


async def _versions(client: httpx.AsyncClient, name: str) -> dict:
    models = (await client.get("/api/v1/models")).json()["models"]
    return next(m for m in models if m["name"] == name)


@pytest.mark.usefixtures("seeded_db")
async def test_a_rollback_serves_the_previous_version_and_survives_a_restart(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path)
    async with trained(settings) as client:
        first = (await client.get("/api/v1/anomaly/status")).json()["version"]
        second = (await client.post("/api/v1/anomaly/train")).json()["version"]
        listed = await _versions(client, "anomaly")
        rolled = await client.post("/api/v1/models/anomaly/rollback")
        status = (await client.get("/api/v1/anomaly/status")).json()
    async with running(settings) as client:
        await wait_trained(client)
        restarted = (await client.get("/api/v1/anomaly/status")).json()

    assert [v["version"] for v in listed["versions"]] == [second, first]
    assert listed["live_version"] == second
    assert [v["live"] for v in listed["versions"]] == [True, False]
    assert all(v["signed"] for v in listed["versions"])
    assert rolled.status_code == 200
    assert rolled.json()["version"] == first
    assert status["version"] == first
    assert restarted["version"] == first


@pytest.mark.usefixtures("seeded_db")
async def test_rolling_back_to_an_unknown_version_says_which_exist(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    async with trained(make_settings(mongo_server.uri, tmp_path)) as client:
        live = (await client.get("/api/v1/forecast/status")).json()["version"]
        unknown = await client.post(
            "/api/v1/models/forecast/rollback", json={"version": "../anomaly"}
        )
        nothing_older = await client.post("/api/v1/models/forecast/rollback")
        bad_name = await client.post("/api/v1/models/nothing/rollback")

    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith("The forecast model has no saved version '../ano")
    assert live in unknown.json()["detail"]
    assert nothing_older.status_code == 404
    assert "no saved version older than the live one" in nothing_older.json()["detail"]
    assert bad_name.status_code == 422


@pytest.mark.usefixtures("seeded_db")
async def test_a_model_that_cannot_be_saved_for_a_full_disk_is_not_served_and_the_job_fails(
    mongo_server: SecantusDBServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path)
    pointer = settings.MODEL_SAVE_PATH / "anomaly" / "current"

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    async with trained(settings) as client:
        live = (await client.get("/api/v1/anomaly/status")).json()["version"]
        saved = pointer.read_text()
        monkeypatch.setattr(ArtifactStore, "stage", full)
        train = await client.post("/api/v1/anomaly/train")
        status = (await client.get("/api/v1/anomaly/status")).json()
        service = (await client.get("/status")).json()
        detect = await client.post(
            "/api/v1/anomaly/detect", json={"data_points": [{"totalAmount": 10, "quantity": 1}]}
        )
        jobs = (await client.get("/api/v1/jobs", params={"model": "anomaly"})).json()["jobs"]
        metrics = (await client.get("/metrics")).text

    detail = train.json()["detail"]
    assert train.status_code == 507
    assert re.search(
        r"could not be saved, so it is not served \(version \S+ stays in service\): the model "
        r"folder is full: [\d.]+ [KM]B free, [\d.]+ [KM]B needed\.",
        detail,
    ), detail
    assert live in detail
    assert str(tmp_path) not in detail
    assert status["version"] == live
    assert status["is_trained"] is True
    assert status["last_error"] == detail
    assert service["model_errors"] == {"anomaly": detail}
    assert detect.status_code == 200
    assert detect.headers["X-Model-Version"] == live
    assert pointer.read_text() == saved == live
    assert jobs[0]["state"] == "failed"
    assert jobs[0]["error"] == detail
    assert jobs[0]["status_code"] == 507
    assert 'ai_service_model_save_failures_total{model="anomaly"} 1.0' in metrics


@pytest.mark.usefixtures("seeded_db")
async def test_a_model_that_cannot_be_saved_at_start_is_not_served_and_says_why_without_paths(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path)
    settings.MODEL_SAVE_PATH.mkdir(parents=True)
    (settings.MODEL_SAVE_PATH / "anomaly").write_text("a file where the model's folder goes")
    async with running(settings) as client:

        async def anomaly_failed() -> bool:
            status = (await client.get("/api/v1/anomaly/status")).json()
            return bool(status["state"] == "failed")

        await wait_until(anomaly_failed, what="the anomaly model's training to fail")
        status = (await client.get("/api/v1/anomaly/status")).json()
        train = await client.post("/api/v1/anomaly/train")
        detect = await client.post(
            "/api/v1/anomaly/detect", json={"data_points": [{"totalAmount": 10, "quantity": 1}]}
        )

    assert status["is_trained"] is False
    assert status["version"] is None
    assert (
        "could not be saved, so it is not served (no version is served yet)"
        in (status["last_error"])
    )
    assert train.status_code == 507
    assert "could not be saved" in train.json()["detail"]
    assert str(tmp_path) not in train.text
    assert detect.status_code == 503
