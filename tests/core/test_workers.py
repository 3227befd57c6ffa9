"""Several processes over one model store and one database (workers of one service, or replicas
on a shared volume): each model is trained once, and every process serves the version a caller
just trained or rolled back through any of them."""

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from secantus import SecantusDBServer

from app.core.names import MODEL_NAMES
from tests.factories import make_settings, running, wait_trained, wait_until

pytestmark = pytest.mark.slow  # two apps train


async def _version(client: httpx.AsyncClient, name: str) -> Any:
    return (await client.get(f"/api/v1/{name}/status")).json()["version"]


@pytest.mark.usefixtures("seeded_db")
async def test_two_processes_share_trainings_and_versions(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path, JOBS_COLLECTION="jobs_two_workers")
    async with running(settings) as first, running(settings) as second:
        await wait_trained(first)
        await wait_trained(second)
        jobs = (await first.get("/api/v1/jobs", params={"limit": 50})).json()["jobs"]
        started = {name: await _version(second, name) for name in ("forecast", "recommend")}
        same_at_start = all(
            [await _version(first, name) == version for name, version in started.items()]
        )
        trained = (await first.post("/api/v1/anomaly/train")).json()["version"]
        seen_by_second = await _version(second, "anomaly")
        rolled = (await second.post("/api/v1/models/anomaly/rollback")).json()["version"]
        seen_by_first = await _version(first, "anomaly")

    assert sorted(job["model"] for job in jobs) == ["anomaly", "forecast", "recommend"]
    assert same_at_start
    assert seen_by_second == trained
    assert seen_by_first == rolled != trained


@pytest.mark.usefixtures("seeded_db")
async def test_replicas_on_two_hosts_share_versions_through_gridfs(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    """No shared volume: a version trained or rolled back on one host reaches the other within
    seconds through MongoDB, and a host that starts late loads what is there, training nothing."""
    shared = {
        "MODEL_STORE": "gridfs",
        "MODEL_GRIDFS_BUCKET": f"models_{uuid.uuid4().hex[:8]}",
        "MODEL_SIGNING_KEY": "k" * 40,
        "MODEL_SYNC_SECONDS": 0.2,
        "JOBS_COLLECTION": f"jobs_{uuid.uuid4().hex[:8]}",
    }
    first_host = make_settings(mongo_server.uri, tmp_path / "first", **shared)
    second_host = make_settings(mongo_server.uri, tmp_path / "second", **shared)
    async with running(first_host) as first:
        await wait_trained(first)
        trained_at_start = {name: await _version(first, name) for name in MODEL_NAMES}
        async with running(second_host) as second:
            await wait_trained(second)
            loaded_by_second = {name: await _version(second, name) for name in MODEL_NAMES}
            jobs = (await first.get("/api/v1/jobs", params={"limit": 50})).json()["jobs"]
            trained = (await first.post("/api/v1/anomaly/train")).json()["version"]
            await _served(second, "anomaly", trained)
            rolled = (await second.post("/api/v1/models/anomaly/rollback")).json()["version"]
            await _served(first, "anomaly", rolled)
            listed = (await second.get("/api/v1/models")).json()["models"]

    assert loaded_by_second == trained_at_start
    assert sorted(job["model"] for job in jobs) == sorted(MODEL_NAMES)
    assert rolled == trained_at_start["anomaly"] != trained
    anomaly = next(model for model in listed if model["name"] == "anomaly")
    assert [v["version"] for v in anomaly["versions"]] == [trained, rolled]
    assert (tmp_path / "second" / "models" / "anomaly" / trained / "model.joblib").exists()


async def _served(client: httpx.AsyncClient, name: str, version: str) -> None:
    async def serves() -> bool:
        return bool(await _version(client, name) == version)

    await wait_until(serves, 10, f"the {name} model's version {version}")
