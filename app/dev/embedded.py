"""SecantusDB, an embedded MongoDB-compatible server, run as a child process on a kept directory.

Used by `make run` when no MongoDB answers, and by the benchmarks."""

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

START_SECONDS = 60.0


def answers(url: str, timeout_ms: int = 1500) -> bool:
    """Whether a MongoDB server answers a ping at `url`."""
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def start(storage: Path, port: int, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Starts SecantusDB on 127.0.0.1:`port` and waits until it answers; returns the process
    and its URL. It runs in its own session, so Ctrl-C in a terminal reaches its parent only,
    which stops it in order."""
    storage.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port),
        "--storage-path", str(storage), "--log-level", "WARNING",
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    url = f"mongodb://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    try:
        while not answers(url, 500):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"SecantusDB did not start on port {port}; see {log_path}.")
            time.sleep(0.2)
    except BaseException:
        stop(process)  # whatever interrupted the wait, leave no server behind
        raise
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    """Asks the server to stop, and kills it if it is still busy after 15 seconds."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
