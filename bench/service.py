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
import json
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.demo_db import embedded_database, seed
from bench.serving import (
    ROOT,
    free_port,
    latency,
    start_service,
    time_to_first_health,
    train,
    wait_trained,
)

MODELS = ("forecast", "anomaly", "recommend")


def _backend_calls(base: str, user: str) -> dict[str, Any]:
    points = [{"totalAmount": 20.0 + i, "quantity": 1 + i % 5} for i in range(50)]
    return {
        "forecast h=7": latency(lambda c: c.get(f"{base}/api/v1/forecast/predict?horizon=7")),
        "detect 50 points": latency(
            lambda c: c.post(f"{base}/api/v1/anomaly/detect", json={"data_points": points})
        ),
        "recommend known user": latency(
            lambda c: c.get(f"{base}/api/v1/recommend/user/{user}?num_recommendations=5")
        ),
        "recommend unknown user": latency(
            lambda c: c.get(f"{base}/api/v1/recommend/user/nobody?num_recommendations=5")
        ),
        "status": latency(lambda c: c.get(f"{base}/status")),
    }


def run_size(size: int, workdir: Path) -> dict[str, Any]:
    with embedded_database(workdir / f"db-{size}") as url:
        seconds, user = seed(url, size)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory(dir=workdir) as scratch:
            started = time.perf_counter()
            service = start_service(url, port, Path(scratch))
            try:
                first_health = time_to_first_health(base, started)
                wait_trained(base)
                process = psutil.Process(service.pid)
                training = {name: train(base, name, process) for name in MODELS}
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
