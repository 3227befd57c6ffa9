"""Several processes over one model store and one database (workers of one service, or replicas
on a shared volume): each model is trained once, and every process serves the version a caller
just trained or rolled back through any of them."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from secantus import SecantusDBServer

from tests.factories import make_settings, running, wait_trained


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
