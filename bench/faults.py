"""Health latency through faults: what `GET /api/v1/health/` answers while the service trains,
while its database is stalled, while its database is down and after it comes back, and how
long a SIGTERM during a training takes to end the service, with the database answering and
with it stalled (SIGSTOP) while the training reads.

`python -m bench.faults [--size 50000] [--stall-seconds 10]`

The 50,000-transaction demo data (bench/.data) in a SecantusDB child process of this script, so
that it can be stalled (SIGSTOP) and stopped; the service as `python -m app.server` (default
workers). One thread calls health every 20 ms throughout and labels each answer with the phase
it fell in; another calls the cached forecast every 200 ms and counts its statuses. Figures
are printed and written to bench/results/faults.json."""

import argparse
import json
import os
import signal
import threading
import time
from collections import Counter
from typing import Any

import httpx

from app.dev import embedded
from bench.demo_db import seed
from bench.serving import ROOT, free_port, percentiles, save_results, trained_service

WORKDIR = ROOT / "bench" / ".data"


class Probe:
    """Calls one path on a loop on its own thread; keeps latency (ms) or status per phase."""

    def __init__(self, url: str, pause: float) -> None:
        self._url, self._pause = url, pause
        self.phase = "idle"
        self.latencies: dict[str, list[float]] = {}
        self.statuses: dict[str, Counter[int | str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.is_set():
                phase, started = self.phase, time.perf_counter()
                try:
                    status: int | str = client.get(self._url).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                self.latencies.setdefault(phase, []).append((time.perf_counter() - started) * 1e3)
                self.statuses.setdefault(phase, Counter())[status] += 1
                time.sleep(self._pause)

    def __enter__(self) -> "Probe":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _until(condition: Any, seconds: float) -> float:
    """Seconds until `condition()` holds (or `seconds` passed)."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        try:
            if condition():
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return round(time.perf_counter() - started, 1)


def run(size: int, stall: float) -> dict[str, Any]:
    directory, port = WORKDIR / f"db-{size}", free_port()
    database, url = embedded.start(directory, port, WORKDIR / f"db-{size}-faults.log")
    try:
        seed(url, size)
        with trained_service(url, WORKDIR, TRAIN_COOLDOWN_SECONDS="0") as (base, service):
            health = Probe(f"{base}/api/v1/health/", 0.02)
            forecast = Probe(f"{base}/api/v1/forecast/predict", 0.2)
            with health, forecast:
                time.sleep(3)
                health.phase = forecast.phase = "training"
                httpx.post(f"{base}/api/v1/forecast/train", timeout=1800)
                health.phase = forecast.phase = "database stalled"
                os.kill(database.pid, signal.SIGSTOP)
                time.sleep(stall)
                os.kill(database.pid, signal.SIGCONT)
                health.phase = forecast.phase = "database down"
                embedded.stop(database)
                time.sleep(stall)
                database, url = embedded.start(directory, port, WORKDIR / f"db-{size}-faults.log")
                health.phase = forecast.phase = "database back"
                recovered = _until(
                    lambda: httpx.get(f"{base}/api/v1/health/detailed").status_code == 200, 120
                )
                time.sleep(3)
            stopped = _sigterm_during_training(base, service)
        with trained_service(url, WORKDIR, TRAIN_COOLDOWN_SECONDS="0") as (base, service):
            try:
                stopped_stalled = _sigterm_during_training(base, service, stall=database.pid)
            finally:
                os.kill(database.pid, signal.SIGCONT)
    finally:
        embedded.stop(database)
    return {
        "transactions": size,
        "stall_seconds": stall,
        "health_ms": {phase: percentiles(ms) for phase, ms in health.latencies.items()},
        "health_statuses": {p: dict(c) for p, c in health.statuses.items()},
        "forecast_statuses": {p: dict(c) for p, c in forecast.statuses.items()},
        "detailed_health_200_after_restart_s": recovered,
        "sigterm_during_training_exit_s": stopped,
        "sigterm_during_training_database_stalled_exit_s": stopped_stalled,
    }


def _sigterm_during_training(base: str, service: Any, stall: int | None = None) -> float:
    """Seconds from a SIGTERM, 2 s into a recommender training (still reading its data), to
    the service's exit; with `stall`, that database process is stopped (SIGSTOP) 1 s before."""
    threading.Thread(
        target=httpx.post,
        args=(f"{base}/api/v1/recommend/train",),
        kwargs={"timeout": 600},
        daemon=True,
    ).start()
    time.sleep(1 if stall else 2)
    if stall:
        os.kill(stall, signal.SIGSTOP)
        time.sleep(1)
    started = time.perf_counter()
    service.send_signal(signal.SIGTERM)
    service.wait(60)
    return round(time.perf_counter() - started, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--stall-seconds", type=float, default=10)
    args = parser.parse_args()
    result = run(args.size, args.stall_seconds)
    print(json.dumps(result, indent=2))
    print("saved to", save_results("faults", result))


if __name__ == "__main__":
    main()
