"""Throughput and latency under 32 concurrent clients, one server process against several.

`python -m bench.throughput [--size 50000] [--workers 1 2] [--seconds 20] [--alone 3]`

Load comes from wrk (Debian's `wrk`: `apt-get install wrk`), a native load generator, so that
the client does not eat the cores it measures. For each target (the cached forecast, anomaly
detection of 50 points) one wrk with 32 connections hits the target while a second wrk with 4
connections hits `GET /api/v1/health/` in the same seconds: the target's p50 / p99 are compared
with health's, measured under the same load. Demo data of `--size` transactions, kept under
bench/.data; figures are printed and written to bench/results/throughput.json.

With `--alone N` (issue 20, item 4), one server process instead, and N rounds in which health
alone (32 connections) is followed right away by the cached forecast alone, then health alone
again by recommendations alone (known users in turn, 10 products each): each route's p50 / p99
is compared with the health run just before it, so that a machine others load shifts both, and
so is the server process's CPU time per request, which their load does not change."""

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.demo_db import embedded_database, seed
from bench.serving import ROOT, save_results, trained_service

WORKDIR = ROOT / "bench" / ".data"
CONNECTIONS, HEALTH_CONNECTIONS = 32, 4
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _points(count: int) -> list[dict[str, Any]]:
    return [
        {"totalAmount": 20.0 + i, "quantity": 1 + i % 3, "productId": f"p{i}", "userId": f"u{i}"}
        for i in range(count)
    ]


def _post_script(directory: Path, body: dict[str, Any]) -> Path:
    script = directory / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
    )
    return script


def _wrk(url: str, connections: int, seconds: int, script: Path | None) -> subprocess.Popen[str]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    return subprocess.Popen([*command, url], stdout=subprocess.PIPE, text=True)


def _parse(output: str) -> dict[str, Any]:
    """Requests per second, p50 / p99 in ms, and every error wrk counted."""

    def ms(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        return round(float(found[1]) * _UNITS[found[2]], 2) if found else float("nan")

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: (.*)", output)
    total = re.search(r"(\d+) requests in", output)
    return {
        "requests": int(total[1]) if total else 0,
        "per_second": float(rate[1]) if rate else 0.0,
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "non_2xx": int(non_2xx[1]) if non_2xx else 0,
        "socket_errors": sockets[1].strip() if sockets else "none",
    }


def _measure(base: str, path: str, script: Path | None, seconds: int) -> dict[str, Any]:
    target = _wrk(f"{base}{path}", CONNECTIONS, seconds, script)
    health = _wrk(f"{base}/api/v1/health/", HEALTH_CONNECTIONS, seconds, None)
    measured = _parse(target.communicate()[0])
    beside = _parse(health.communicate()[0])
    return {
        **measured,
        "health": beside,
        "p50_ratio": round(measured["p50_ms"] / beside["p50_ms"], 2),
        "p99_ratio": round(measured["p99_ms"] / beside["p99_ms"], 2),
    }


def _users_script(directory: Path, users: list[str]) -> Path:
    """Recommendations for `users` in turn, one per request."""
    script = directory / "users.lua"
    listed = ", ".join(json.dumps(user) for user in users)
    script.write_text(
        f"local users = {{{listed}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #users + 1\n"
        '  return wrk.format("GET", "/api/v1/recommend/user/" .. users[i] ..'
        ' "?num_recommendations=10")\n'
        "end\n"
    )
    return script


def _alone(
    base: str, path: str, script: Path | None, seconds: int, server: psutil.Process
) -> dict[str, Any]:
    """One wrk run, and the server process's CPU time per request meanwhile (user and
    system): what a request costs the server, which other processes' load does not change."""
    before = server.cpu_times()
    measured = _parse(_wrk(f"{base}{path}", CONNECTIONS, seconds, script).communicate()[0])
    after = server.cpu_times()
    cpu = (after.user - before.user) + (after.system - before.system)
    return {**measured, "cpu_ms_per_request": round(1000 * cpu / max(measured["requests"], 1), 3)}


def _after_health(
    base: str, path: str, script: Path | None, seconds: int, server: psutil.Process
) -> dict[str, Any]:
    """Health alone, then the route alone, each with CONNECTIONS connections."""
    health = _alone(base, "/api/v1/health/", None, seconds, server)
    measured = _alone(base, path, script, seconds, server)
    return {
        **measured,
        "health": health,
        "p50_ratio": round(measured["p50_ms"] / health["p50_ms"], 2),
        "p99_ratio": round(measured["p99_ms"] / health["p99_ms"], 2),
        "cpu_ratio": round(measured["cpu_ms_per_request"] / health["cpu_ms_per_request"], 2),
    }


def run_alone(url: str, users: list[str], rounds: int, seconds: int) -> dict[str, Any]:
    """Each route alone right after health alone, `rounds` times, one server process."""
    settings = {"AI_SERVICE_WORKERS": "1", "TRAIN_COOLDOWN_SECONDS": "0"}
    with trained_service(url, WORKDIR, **settings) as (base, service):
        server = psutil.Process(service.pid)
        httpx.get(f"{base}/api/v1/forecast/predict", timeout=60).raise_for_status()
        strategies = [
            httpx.get(f"{base}/api/v1/recommend/user/{user}", timeout=60).json()["strategy"]
            for user in users[:100]
        ]
        with tempfile.TemporaryDirectory(dir=WORKDIR) as scratch:
            script = _users_script(Path(scratch), users)
            result: dict[str, Any] = {
                "personalized_share": strategies.count("personalized") / len(strategies),
                "rounds": [],
            }
            for number in range(rounds):
                measured = {
                    "forecast_predict": _after_health(
                        base, "/api/v1/forecast/predict", None, seconds, server
                    ),
                    "recommend_user": _after_health(base, "/", script, seconds, server),
                }
                print(f"round {number + 1}:", json.dumps(measured))
                result["rounds"].append(measured)
    for route in ("forecast_predict", "recommend_user"):
        for ratio in ("p50_ratio", "p99_ratio", "cpu_ratio"):
            values = sorted(r[route][ratio] for r in result["rounds"])
            result[f"{route}_{ratio}_median"] = values[len(values) // 2]
    return result


def _known_users(url: str, count: int = 1_000) -> list[str]:
    from pymongo import MongoClient

    from bench.demo_db import DATABASE

    client: MongoClient[dict[str, Any]]
    with MongoClient(url) as client:
        found: Any = client[DATABASE].transactions.aggregate(
            [{"$group": {"_id": "$userId", "n": {"$sum": 1}}}, {"$sort": {"n": -1}},
             {"$limit": count}]
        )  # fmt: skip
        return [str(row["_id"]) for row in found]


def run_workers(url: str, workers: int, seconds: int) -> dict[str, Any]:
    settings = {"AI_SERVICE_WORKERS": str(workers), "TRAIN_COOLDOWN_SECONDS": "0"}
    with trained_service(url, WORKDIR, **settings) as (base, _):
        httpx.get(f"{base}/api/v1/forecast/predict", timeout=60).raise_for_status()
        with tempfile.TemporaryDirectory(dir=WORKDIR) as scratch:
            detect = _post_script(Path(scratch), {"data_points": _points(50)})
            return {
                "forecast_predict": _measure(base, "/api/v1/forecast/predict", None, seconds),
                "anomaly_detect_50": _measure(base, "/api/v1/anomaly/detect", detect, seconds),
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--alone", type=int, metavar="ROUNDS", help="each route after health")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    results: dict[str, Any] = {"transactions": args.size, "connections": CONNECTIONS}
    with embedded_database(WORKDIR / f"db-{args.size}") as url:
        seed(url, args.size)
        if args.alone:
            results["alone"] = run_alone(url, _known_users(url), args.alone, args.seconds)
            print("saved to", save_results("throughput_alone", results))
            return
        for workers in args.workers:
            results[f"workers_{workers}"] = run_workers(url, workers, args.seconds)
            print(f"workers={workers}:", json.dumps(results[f"workers_{workers}"], indent=2))
    print("saved to", save_results("throughput", results))


if __name__ == "__main__":
    main()
