"""Benchmark of the whole service, as operators and the backend see it.

    python -m bench.service [--sizes 50000 1000000] [--workdir bench/.data]

For each size it writes demo data into a SecantusDB child process (kept in --workdir and reused
by later runs), starts the service as a child process, and prints:
- seconds from process start to the first 200 of /api/v1/health/;
- per model, on POST /train: seconds in the database, seconds fitting, the peak RSS of the
  server and of its fit worker process,
  and /api/v1/health/ latency p50/p99 while it trains;
- p50/p99 latency of each backend call once trained.
Results are also written to bench/results/<size>.json.
"""

import argparse
import contextlib
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.demo_db import embedded_database, seed

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("forecast", "anomaly", "recommend")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentiles(samples: list[float]) -> dict[str, float]:
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
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _start_service(url: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MONGODB_URL": url,
        "AI_SERVICE_PORT": str(port),
        "AI_SERVICE_HOST": "127.0.0.1",
        "MODEL_SAVE_PATH": str(workdir / "models"),
        "LOG_DIR": str(workdir / "logs"),
        "RETRAIN_INTERVAL_HOURS": "0",
        "DATA_COLLECTION_DAYS": "120",
    }
    log = (workdir / "service.out").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "app.server"], cwd=ROOT, env=env, stdout=log, stderr=log
    )


def _time_to_first_health(base: str, started: float) -> float:
    while True:
        try:
            if httpx.get(f"{base}/api/v1/health/", timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.01)


def _wait_trained(base: str) -> None:
    while not httpx.get(f"{base}/status", timeout=30).json()["models_loaded"]:
        time.sleep(0.5)


def _train(base: str, name: str, process: psutil.Process) -> dict[str, Any]:
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
        "health_ms": _percentiles(sampler.latencies_ms),
    }


def _latency(call: Callable[[httpx.Client], httpx.Response], times: int = 200) -> dict[str, Any]:
    samples = []
    with httpx.Client(timeout=60) as client:
        for _ in range(times):
            started = time.perf_counter()
            response = call(client)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return _percentiles(samples)


def _backend_calls(base: str, user: str) -> dict[str, Any]:
    points = [{"totalAmount": 20.0 + i, "quantity": 1 + i % 5} for i in range(50)]
    return {
        "forecast h=7": _latency(lambda c: c.get(f"{base}/api/v1/forecast/predict?horizon=7")),
        "detect 50 points": _latency(
            lambda c: c.post(f"{base}/api/v1/anomaly/detect", json={"data_points": points})
        ),
        "recommend known user": _latency(
            lambda c: c.get(f"{base}/api/v1/recommend/user/{user}?num_recommendations=5")
        ),
        "recommend unknown user": _latency(
            lambda c: c.get(f"{base}/api/v1/recommend/user/nobody?num_recommendations=5")
        ),
        "status": _latency(lambda c: c.get(f"{base}/status")),
    }


def run_size(size: int, workdir: Path) -> dict[str, Any]:
    with embedded_database(workdir / f"db-{size}") as url:
        seconds, user = seed(url, size)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory(dir=workdir) as scratch:
            started = time.perf_counter()
            service = _start_service(url, port, Path(scratch))
            try:
                first_health = _time_to_first_health(base, started)
                _wait_trained(base)
                process = psutil.Process(service.pid)
                training = {name: _train(base, name, process) for name in MODELS}
                calls = _backend_calls(base, user)
            finally:
                service.send_signal(signal.SIGINT)
                service.wait(120)
    return {
        "transactions": size,
        "seed_seconds": seconds,
        "first_health_s": round(first_health, 3),
        "training": training,
        "backend_calls_ms": calls,
    }


def _print(result: dict[str, Any]) -> None:
    print(f"\n## {result['transactions']:,} transactions")
    if result["seed_seconds"] is not None:
        print(f"demo data written in {result['seed_seconds']:.0f} s")
    print(f"first 200 of /api/v1/health/ after {result['first_health_s']:.2f} s")
    print(
        "| model | rows | DB query s | fit s | server peak RSS MB | worker peak RSS MB "
        "| health p50 ms | health p99 ms | health calls |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, t in result["training"].items():
        print(
            f"| {name} | {t['rows']} | {t['query_s']} | {t['fit_s']} | {t['peak_rss_mb']} "
            f"| {t['worker_peak_rss_mb']} | {t['health_ms']['p50']} | {t['health_ms']['p99']} "
            f"| {t['health_ms']['n']} |"
        )
    print("| backend call | p50 ms | p99 ms |")
    print("|---|---|---|")
    for name, c in result["backend_calls_ms"].items():
        print(f"| {name} | {c['p50']} | {c['p99']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    for size in args.sizes:
        result = run_size(size, args.workdir)
        (results_dir / f"{size}.json").write_text(json.dumps(result, indent=2))
        _print(result)


if __name__ == "__main__":
    main()
