"""The fit worker process outlives no server: killed outright, the server cannot stop it, so
the worker ends itself once its parent is gone."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow  # a server process and its fit worker

ROOT = Path(__file__).resolve().parents[2]

_SERVER = """
import asyncio, sys
from app.core.lifecycle import FitReference, FitWorker

held = FitReference("tests.core.test_fit_worker:record_pid_then_sleep")
asyncio.run(FitWorker().fit(held, sys.argv[1]))
"""


def record_pid_then_sleep(path: str) -> None:
    """A fit that never ends on its own (run in the worker)."""
    Path(path).write_text(str(os.getpid()))
    time.sleep(600)


def _ended(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_fit_worker_ends_when_its_server_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    server = subprocess.Popen([sys.executable, "-c", _SERVER, str(pid_file)], cwd=ROOT)
    deadline = time.monotonic() + 120
    while not pid_file.exists() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    alive_before = not _ended(worker)

    server.send_signal(signal.SIGKILL)
    server.wait(10)
    deadline = time.monotonic() + 30
    while not _ended(worker) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert alive_before
    assert _ended(worker)
