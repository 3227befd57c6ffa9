"""What the service benchmarks share: the service as a child process, and latency figures taken
while it works."""

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import psutil

from app.core.lifecycle.fit_worker import WORKER_ENV

ROOT = Path(__file__).resolve().parents[1]


def as_worker(module: str) -> None:
    """Re-runs this benchmark (`python -m module`) with the fit worker's environment unless it
    has it: fits are timed with one BLAS thread, as the service runs them. With two, on this
    busy 2-core machine, a SARIMAX fit took 40 times longer."""
    if any(os.environ.get(name) != value for name, value in WORKER_ENV.items()):
        command = [sys.executable, "-m", module, *sys.argv[1:]]
        os.execve(sys.executable, command, {**os.environ, **WORKER_ENV})


def save_results(name: str, results: dict[str, Any]) -> Path:
    """Writes a benchmark's figures to bench/results/<name>.json; returns the path."""
    directory = ROOT / "bench" / "results"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, default=float))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def percentiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        return {"p50": samples[0] if samples else float("nan"), "p99": float("nan"), "n": 0}
    cuts = statistics.quantiles(samples, n=100)
    return {"p50": round(cuts[49], 2), "p99": round(cuts[98], 2), "n": len(samples)}


class Sampler:
    """Calls /api/v1/health/ in a loop and records the service's RSS, on its own thread."""

    def __init__(self, base: str, process: psutil.Process) -> None:
        self._base, self._process = base, process
        self._stop = threading.Event()
        self.latencies_ms: list[float] = []
        self.peak_rss = 0
        self.peak_worker_rss = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                client.get(f"{self._base}/api/v1/health/")
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
                self.peak_rss = max(self.peak_rss, self._process.memory_info().rss)
                self.peak_worker_rss = max(self.peak_worker_rss, self._workers_rss())
                time.sleep(0.02)

    def _workers_rss(self) -> int:
        """Resident memory of the service's child processes: the fit's worker."""
        total = 0
        for child in self._process.children(recursive=True):
            with suppress(psutil.Error):
                total += child.memory_info().rss
        return total

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def start_service(url: str, port: int, workdir: Path, **settings: str) -> subprocess.Popen[bytes]:
    """The service as `python -m app.server`, over `url`, with `settings` in its environment.
    It runs in a session of its own: Ctrl-C in a terminal reaches the benchmark only, which
    stops it in order, and `os.killpg` on its pid ends it whole (uvicorn's workers and their fit
    workers with it)."""
    env = {
        **os.environ,
        "MONGODB_URL": url,
        "AI_SERVICE_PORT": str(port),
        "AI_SERVICE_HOST": "127.0.0.1",
        "MODEL_SAVE_PATH": str(workdir / "models"),
        "MODEL_SIGNING_KEY_FILE": str(workdir / "signing.key"),
        "LOG_DIR": str(workdir / "logs"),
        "RETRAIN_INTERVAL_HOURS": "0",
        "DATA_COLLECTION_DAYS": "120",
        # The benchmarks time whole trainings through one call: it waits for the end (200).
        "TRAIN_WAIT_SECONDS": "1800",
        "TRAIN_COOLDOWN_SECONDS": "0",  # the benchmarks train right after start-up's training
        **settings,
    }
    log = (workdir / "service.out").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "app.server"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


def time_to_first_health(base: str, started: float) -> float:
    while True:
        try:
            if httpx.get(f"{base}/api/v1/health/", timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.01)


def wait_trained(base: str) -> None:
    while not httpx.get(f"{base}/status", timeout=30).json()["models_loaded"]:
        time.sleep(0.5)


def train(base: str, name: str, process: psutil.Process) -> dict[str, Any]:
    baseline = process.memory_info().rss
    with Sampler(base, process) as sampler:
        response = httpx.post(f"{base}/api/v1/{name}/train", timeout=1800)
    body = response.json()
    return {
        "status": response.status_code,
        "rows": body.get("rows_used"),
        "query_s": body.get("query_seconds"),
        "fit_s": body.get("fit_seconds"),
        "rss_before_mb": round(baseline / 2**20),
        "peak_rss_mb": round(max(sampler.peak_rss, baseline) / 2**20),
        "worker_peak_rss_mb": round(sampler.peak_worker_rss / 2**20),
        "health_ms": percentiles(sampler.latencies_ms),
    }


@contextmanager
def trained_service(
    url: str, workdir: Path, **settings: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The service as a child process over the database at `url`, on a free port, with
    `settings` in its environment, once its models are trained; yields its base URL and
    process, and stops it with Ctrl-C's signal."""
    base = f"http://127.0.0.1:{(port := free_port())}"
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        service = start_service(url, port, Path(scratch), **settings)
        try:
            time_to_first_health(base, time.perf_counter())
            wait_trained(base)
            yield base, service
        finally:
            service.send_signal(signal.SIGINT)
            service.wait(120)


def latency(call: Callable[[httpx.Client], httpx.Response], times: int = 200) -> dict[str, Any]:
    samples = []
    with httpx.Client(timeout=60) as client:
        for _ in range(times):
            started = time.perf_counter()
            response = call(client)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return percentiles(samples)
