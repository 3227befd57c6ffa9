"""What the model stores cost: saving a version, and how long a version saved on one host takes
to be served by another (`MODEL_STORE=gridfs`), against the disk store (`local`).

    python -m bench.store [--sizes 1 8 32 128] [--repeats 3]

For each artifact size (MB of float64 noise, which neither compresses nor pickles smaller), in
a SecantusDB child process on a temporary directory: the disk store's save and load; GridFS's
save (seal, upload, pointer, the saver's own copy), then a second host's refresh (read the
pointer, download, write its copy) and its load, which together are what a replica adds to
MODEL_SYNC_SECONDS before it serves a new version. Median of `--repeats` runs, in seconds;
written to bench/results/store.json."""

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
from pymongo import AsyncMongoClient

from app.core.clock import utc_now
from app.core.gridfs_store import GridFSModelStore
from app.core.model_store import LocalModelStore
from app.core.store import ArtifactStore, new_version
from bench.demo_db import embedded_database
from bench.serving import save_results

KEY = b"bench-signing-key-of-thirty-two-characters"
MODEL_TYPE = "bench"


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
        "local_save": lambda: local.save("bench", model, metadata),
        "local_load": lambda: local.load_current("bench", MODEL_TYPE),
        "gridfs_save": lambda: saver.save("bench", model, metadata),
        "other_host_refresh": other.refresh,
        "other_host_load": lambda: other.load_current("bench", MODEL_TYPE),
    }
    timed = {name: await _seconds(step) for name, step in steps.items()}
    if other.current("bench") != metadata["version"]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch, embedded_database(Path(scratch) / "db") as url:
        for megabytes in arguments.sizes:
            row = asyncio.run(_one_size(url, Path(scratch), megabytes, arguments.repeats))
            rows.append(row)
            print(row, flush=True)
    print(f"results: {save_results('store', {'sizes': rows, 'repeats': arguments.repeats})}")


if __name__ == "__main__":
    main()
