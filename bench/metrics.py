"""What observability costs: GET /metrics, and a cached forecast with and without the request
metrics middleware.

    python -m bench.metrics [--transactions 50000] [--calls 2000] [--workdir bench/.data]

Writes demo data into a SecantusDB child process (kept in --workdir), has the service train and
save its models once, then starts two services as child processes, one with its request
metrics middleware and one without, both loading the saved models. One client calls both in
turn, alternating which comes first, so that whatever else runs on the machine falls on both
alike, and prints p50/p99 of GET /api/v1/forecast/predict?horizon=7 (no database call) and of
GET /metrics on each; and, in-process, the cost of recording one request and of rendering
/metrics with the series of every route. Results are also written to
bench/results/metrics.json.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import httpx

from bench.demo_db import embedded_database, seed
from bench.serving import (
    ROOT,
    free_port,
    percentiles,
    save_results,
    time_to_first_health,
    wait_trained,
)

WITHOUT_METRICS = "BENCH_WITHOUT_METRICS"
PATHS = {"forecast h=7": "/api/v1/forecast/predict?horizon=7", "metrics": "/metrics"}


def serve() -> None:
    """The child process: the service as `python -m app.server` runs it, without the request
    metrics middleware when $BENCH_WITHOUT_METRICS is set."""
    import uvicorn

    from app.config import get_settings
    from app.core.observability.request_metrics import RequestMetrics
    from app.logging import configure_logging
    from app.main import create_app

    settings = get_settings()
    configure_logging(settings.LOG_DIR, settings.LOG_LEVEL)
    app = create_app(settings)
    if os.environ.get(WITHOUT_METRICS):
        app.user_middleware = [m for m in app.user_middleware if m.cls is not RequestMetrics]
    uvicorn.run(
        app,
        host=settings.AI_SERVICE_HOST,
        port=settings.AI_SERVICE_PORT,
        log_config=None,
        access_log=False,
    )


def _start(url: str, port: int, workdir: Path, without_metrics: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MONGODB_URL": url,
        "AI_SERVICE_PORT": str(port),
        "AI_SERVICE_HOST": "127.0.0.1",
        "MODEL_SAVE_PATH": str(workdir / "models"),
        "LOG_DIR": str(workdir / f"logs-{port}"),
        "RETRAIN_INTERVAL_HOURS": "0",
        "DATA_COLLECTION_DAYS": "120",
    }
    if without_metrics:
        env[WITHOUT_METRICS] = "1"
    log = (workdir / f"service-{port}.out").open("wb")
    command = [sys.executable, "-m", "bench.metrics", "--serve"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


def _interleaved(bases: dict[str, str], calls: int) -> dict[str, dict[str, Any]]:
    """p50/p99 in ms of each path on each server, the servers called in turn."""
    samples: dict[str, dict[str, list[float]]] = {
        variant: {name: [] for name in PATHS} for variant in bases
    }
    with httpx.Client(timeout=60) as client:
        for name, path in PATHS.items():
            for call in range(calls):
                for variant, base in sorted(bases.items(), reverse=call % 2 == 1):
                    started = time.perf_counter()
                    client.get(f"{base}{path}").raise_for_status()
                    samples[variant][name].append((time.perf_counter() - started) * 1000)
    return {
        variant: {name: percentiles(found) for name, found in by_path.items()}
        for variant, by_path in samples.items()
    }


def _in_process() -> dict[str, float]:
    """Microseconds to record one request (counter and histogram), and milliseconds to render
    /metrics once every path of the API has answered GET with 200, 404 and 503 (no model
    series)."""
    from app.core.observability.metrics import ServiceMetrics
    from app.main import create_app

    metrics = ServiceMetrics()
    route = "/api/v1/forecast/predict"
    runs = 100_000
    seconds = timeit.timeit(lambda: metrics.observe_request(route, "GET", 200, 0.004), number=runs)
    routes = list(create_app().openapi()["paths"])
    for path in routes:
        for status in (200, 404, 503):
            metrics.observe_request(path, "GET", status, 0.004)
    renders = 200
    render = timeit.timeit(lambda: metrics.exposition(None), number=renders)
    return {
        "record_request_us": round(seconds / runs * 1e6, 2),
        "routes": len(routes),
        "render_ms": round(render / renders * 1000, 2),
        "render_bytes": len(metrics.exposition(None)[0]),
    }


def _train_and_save(url: str, workdir: Path) -> None:
    """Has one service train every model and save it, then stops it."""
    port = free_port()
    service = _start(url, port, workdir, without_metrics=False)
    try:
        time_to_first_health(f"http://127.0.0.1:{port}", time.perf_counter())
        wait_trained(f"http://127.0.0.1:{port}")
    finally:
        service.send_signal(signal.SIGINT)
        service.wait(60)


def run(transactions: int, calls: int, workdir: Path) -> dict[str, Any]:
    with embedded_database(workdir / f"db-{transactions}") as url:
        seed(url, transactions)
        with tempfile.TemporaryDirectory(dir=workdir) as scratch:
            ports = {"with metrics": free_port(), "without metrics": free_port()}
            bases = {variant: f"http://127.0.0.1:{port}" for variant, port in ports.items()}
            _train_and_save(url, Path(scratch))
            services = []
            try:
                for variant, port in ports.items():
                    without = variant == "without metrics"
                    services.append(_start(url, port, Path(scratch), without))
                    time_to_first_health(bases[variant], time.perf_counter())
                    wait_trained(bases[variant])  # loaded from disk
                metrics_size = len(httpx.get(f"{bases['with metrics']}/metrics").content)
                latencies = _interleaved(bases, calls)
                metrics_size_after = len(httpx.get(f"{bases['with metrics']}/metrics").content)
            finally:
                for service in services:
                    service.send_signal(signal.SIGINT)
                    service.wait(60)
    return {
        "transactions": transactions,
        "calls": calls,
        "latency_ms": latencies,
        "metrics_bytes": {"before": metrics_size, "after": metrics_size_after},
        "in_process": _in_process(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--transactions", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    result = run(args.transactions, args.calls, args.workdir)
    save_results("metrics", result)
    print(f"{result['transactions']:,} transactions, {result['calls']} calls per path and server")
    print("| server | call | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for variant, by_path in result["latency_ms"].items():
        for name, figures in by_path.items():
            print(f"| {variant} | {name} | {figures['p50']} | {figures['p99']} |")
    print(f"/metrics body: {result['metrics_bytes']} bytes")
    costs = result["in_process"]
    print(
        f"in-process: recording one request {costs['record_request_us']} µs; rendering "
        f"/metrics with {costs['routes']} routes x 3 statuses {costs['render_ms']} ms "
        f"({costs['render_bytes']} bytes)"
    )


if __name__ == "__main__":
    main()
