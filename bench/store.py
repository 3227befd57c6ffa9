"""What the model stores cost: saving a version, and how long a version saved on one host takes
to be served by another (`MODEL_STORE=gridfs`), against the disk store (`local`).

    python -m bench.store [--sizes 1 8 32 128] [--repeats 3] [--replicas-size 50000]

For each artifact size (MB of float64 noise, which neither compresses nor pickles smaller), in
a SecantusDB child process on a temporary directory: the disk store's save and load; GridFS's
save (pickle to a staging file, checksum, signature, upload, pointer, the saver's own copy),
then a second host's refresh (read the pointer, download, check, move its `current`) and its
load, which together are what a replica adds to MODEL_SYNC_SECONDS before it serves a new
version. Median of `--repeats` runs, in seconds.

Then two replicas as they would run on two hosts: two `python -m app.server` (2 workers each)
over the `--replicas-size` demo data (bench/.data), each with its own MODEL_SAVE_PATH, one
GridFS bucket and one signing key. The first trains every model; the second starts after it
and is timed until it serves them all (from GridFS: its jobs show whether it trained). Then
each model is trained through the first, and the second is polled every 50 ms until it answers
with the new version. Everything is written to bench/results/store.json."""

import argparse
import asyncio
import signal
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from pymongo import AsyncMongoClient

from app.core.clock import utc_now
from app.core.names import MODEL_NAMES
from app.core.store import ArtifactStore, new_version
from app.core.store.gridfs import GridFSModelStore
from app.core.store.local import LocalModelStore
from app.dev import embedded
from bench.demo_db import embedded_database, seed
from bench.serving import ROOT, free_port, save_results, start_service, trained_service

KEY = b"bench-signing-key-of-thirty-two-characters"
MODEL_TYPE = "bench"
# A registered model name: replicas follow only the pointers of the models they serve.
NAME = "forecast"


async def _seconds(step: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await step()
    return time.perf_counter() - started


async def _timed(
    local: LocalModelStore,
    saver: GridFSModelStore,
    other: GridFSModelStore,
    model: object,
    metadata: dict[str, Any],
) -> dict[str, float]:
    """Each step's seconds, in order: the other host refreshes after the GridFS save."""
    steps: dict[str, Callable[[], Awaitable[Any]]] = {
        "local_save": lambda: local.save(NAME, model, metadata),
        "local_load": lambda: local.load_current(NAME, MODEL_TYPE),
        "gridfs_save": lambda: saver.save(NAME, model, metadata),
        "other_host_refresh": other.refresh,
        "other_host_load": lambda: other.load_current(NAME, MODEL_TYPE),
    }
    timed = {name: await _seconds(step) for name, step in steps.items()}
    if other.current(NAME) != metadata["version"]:
        raise AssertionError("the other host does not serve the version saved")
    return timed


async def _one_size(url: str, directory: Path, megabytes: float, repeats: int) -> dict[str, Any]:
    model = np.random.default_rng(0).random(int(megabytes * 2**20 / 8))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    runs: dict[str, list[float]] = {}
    try:
        for repeat in range(repeats):
            db = client[f"bench_store_{int(megabytes)}_{repeat}"]
            base = directory / f"{megabytes}-{repeat}"
            local = LocalModelStore(ArtifactStore(base / "local", KEY))
            saver = GridFSModelStore(ArtifactStore(base / "a", KEY), db, "models", 30, 600, 5)
            other = GridFSModelStore(ArtifactStore(base / "b", KEY), db, "models", 30, 600, 5)
            metadata = {"version": new_version(utc_now()), "model_type": MODEL_TYPE}
            timed = await _timed(local, saver, other, model, metadata)
            for name, seconds in timed.items():
                runs.setdefault(name, []).append(seconds)
            await client.drop_database(db.name)
    finally:
        await client.close()
    figures = {name: round(statistics.median(values), 3) for name, values in runs.items()}
    figures["other_host_serves_after"] = round(
        figures["other_host_refresh"] + figures["other_host_load"], 3
    )
    return {"megabytes": megabytes, **figures}


def _version(base: str, name: str) -> str | None:
    version: str | None = httpx.get(f"{base}/api/v1/{name}/status", timeout=10).json()["version"]
    return version


def _seconds_until(condition: Callable[[], bool], timeout: float = 300) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the second replica never served the version")
        time.sleep(0.05)
    return round(time.perf_counter() - started, 2)


def _replicas(size: int) -> dict[str, Any]:
    """Two replicas on two "hosts" (directories) over one database and one GridFS bucket."""
    workdir = ROOT / "bench" / ".data"
    directory = workdir / f"db-{size}"
    database, url = embedded.start(directory, free_port(), workdir / f"db-{size}-store.log")
    shared = {
        "MODEL_STORE": "gridfs",
        "MODEL_GRIDFS_BUCKET": f"bench_{uuid.uuid4().hex[:8]}",
        "MODEL_SIGNING_KEY": KEY.decode(),
        "JOBS_COLLECTION": f"bench_jobs_{uuid.uuid4().hex[:8]}",
        "AI_SERVICE_WORKERS": "2",
    }
    try:
        seed(url, size)
        with (
            trained_service(url, workdir, **shared) as (first, _),
            tempfile.TemporaryDirectory(dir=workdir) as second_host,
        ):
            second_port = free_port()
            second = f"http://127.0.0.1:{second_port}"
            process = start_service(url, second_port, Path(second_host), **shared)
            try:
                serving = _seconds_until(
                    lambda: (
                        _answers(second)
                        and all(_version(second, n) == _version(first, n) for n in MODEL_NAMES)
                    )
                )
                jobs = httpx.get(f"{first}/api/v1/jobs", params={"limit": 50}).json()["jobs"]
                arrivals = {}
                for name in MODEL_NAMES:
                    trained = httpx.post(f"{first}/api/v1/{name}/train", timeout=1800)
                    version = trained.json()["version"]
                    arrivals[name] = _seconds_until(partial(_serves, second, name, version))
            finally:
                process.send_signal(signal.SIGINT)
                process.wait(120)
    finally:
        embedded.stop(database)
    return {
        "transactions": size,
        "second_replica_serves_every_model_after_s": serving,
        "trainings_at_start_for_two_replicas": len(jobs),
        "new_version_reaches_second_replica_s": arrivals,
    }


def _serves(base: str, name: str, version: str) -> bool:
    return _version(base, name) == version


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health/", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--replicas-size", type=int, default=50_000)
    arguments = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch, embedded_database(Path(scratch) / "db") as url:
        for megabytes in arguments.sizes:
            row = asyncio.run(_one_size(url, Path(scratch), megabytes, arguments.repeats))
            rows.append(row)
            print(row, flush=True)
    replicas = _replicas(arguments.replicas_size)
    print(replicas, flush=True)
    results = {"sizes": rows, "repeats": arguments.repeats, "replicas": replicas}
    print(f"results: {save_results('store', results)}")


if __name__ == "__main__":
    main()
