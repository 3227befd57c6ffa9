"""Saved model versions: listed, rolled back (and kept across a restart), and a model that cannot
be saved is served all the same."""

from pathlib import Path

import httpx
import pytest
from secantus import SecantusDBServer

from tests.factories import make_settings, running, trained, wait_trained

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
async def test_a_model_that_cannot_be_saved_is_served_and_says_so_without_paths(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path)
    settings.MODEL_SAVE_PATH.mkdir(parents=True)
    (settings.MODEL_SAVE_PATH / "anomaly").write_text("a file where the model's folder goes")
    async with trained(settings) as client:
        status = (await client.get("/api/v1/anomaly/status")).json()
        train = await client.post("/api/v1/anomaly/train")
        detect = await client.post(
            "/api/v1/anomaly/detect", json={"data_points": [{"totalAmount": 10, "quantity": 1}]}
        )

    assert status["is_trained"] is True
    assert status["save_error"].startswith("not saved (")
    assert train.status_code == 200
    assert "It is served, but not saved" in train.json()["message"]
    assert str(tmp_path) not in train.text
    assert detect.status_code == 200
