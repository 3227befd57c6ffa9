"""The service as `python -m app.server` runs it with two worker processes: one trains, and a
caller that trained through whichever worker is then answered with the new version by both;
`/metrics` counts the requests of both."""

import re
from collections.abc import Iterator

import httpx
import psutil
import pytest
from secantus import SecantusDBServer

from tests.factories import served_over_demo_data

pytestmark = pytest.mark.slow  # uvicorn workers that train

DATABASE = "two_workers_served"


@pytest.fixture(scope="module")
def served(mongo_server: SecantusDBServer) -> Iterator[str]:
    with served_over_demo_data(mongo_server.uri, DATABASE, AI_SERVICE_WORKERS="2") as base:
        yield base


def _workers(base: str) -> list[psutil.Process]:
    """The worker processes uvicorn started, children of the process bound to the port."""
    port = int(base.rsplit(":", 1)[1])
    bound = {c.pid for c in psutil.net_connections("tcp") if c.laddr.port == port and c.pid}
    parents = {_uvicorn_parent(psutil.Process(pid)) for pid in bound}
    children = [child for parent in parents for child in parent.children()]
    return [child for child in children if _is_worker(child)]


def _is_worker(process: psutil.Process) -> bool:
    return "spawn_main" in " ".join(process.cmdline())


def _uvicorn_parent(process: psutil.Process) -> psutil.Process:
    """The socket is shared: whichever process holds it, the parent is the one above."""
    parent = process.parent()
    return parent if _is_worker(process) and parent is not None else process


def test_each_model_is_trained_once_and_a_new_version_is_served_by_every_worker(
    served: str,
) -> None:
    jobs = httpx.get(f"{served}/api/v1/jobs", params={"limit": 50}).json()["jobs"]
    trained = httpx.post(f"{served}/api/v1/anomaly/train", timeout=600).json()["version"]
    answers = [httpx.get(f"{served}/api/v1/anomaly/status") for _ in range(30)]
    metrics = httpx.get(f"{served}/metrics").text
    counted = re.findall(
        r'^ai_service_http_requests_total\{.*route="/api/v1/anomaly/status".*\} ([\d.]+)$',
        metrics,
        re.MULTILINE,
    )

    assert len(_workers(served)) == 2
    assert sorted(job["model"] for job in jobs) == ["anomaly", "forecast", "recommend"]
    assert {answer.json()["version"] for answer in answers} == {trained}
    assert {answer.headers["X-Model-Version"] for answer in answers} == {trained}
    assert sum(float(value) for value in counted) >= 30
