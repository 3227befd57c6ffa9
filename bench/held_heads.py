"""Liveness while one client holds thousands of half-sent request heads (issue 21, item 1).

`python -m bench.held_heads [--connections 2200] [--seconds 16]`

The service as `python -m app.server` with its default settings (workers, AI_SERVICE_MAX_
CONCURRENCY, REQUEST_HEAD_TIMEOUT_SECONDS) over an empty SecantusDB child process: liveness
needs no data. The benchmark opens `--connections` connections, sends each a request head
without its final blank line, and keeps them open; meanwhile it calls `GET
/api/v1/health/live` on a fresh connection every 0.25 s and counts the answers per second since
the heads were sent, and it notes when the server closed each held connection. Figures are
printed and written to bench/results/held_heads.json."""

import argparse
import asyncio
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from app.config import Settings
from bench.demo_db import embedded_database
from bench.serving import ROOT, free_port, save_results, start_service, time_to_first_health

WORKDIR = ROOT / "bench" / ".data"
PARTIAL_HEAD = b"GET /api/v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


async def _hold(host: str, port: int, started: list[float], closed_at: list[float]) -> None:
    """One held connection: a half-sent head, then reads until the server closes it."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return
    writer.write(PARTIAL_HEAD)
    await writer.drain()
    try:
        while await reader.read(65536):
            pass
        closed_at.append(time.monotonic() - started[0])
    except OSError:
        closed_at.append(time.monotonic() - started[0])
    finally:
        writer.close()


async def _probe(base: str, started: list[float], seconds: float) -> list[tuple[float, str]]:
    answers: list[tuple[float, str]] = []
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=2) as client:
        while (elapsed := time.monotonic() - started[0]) < seconds:
            try:
                response = await client.get(f"{base}/api/v1/health/live")
                kind = response.headers.get("content-type", "").split(";")[0]
                answers.append((elapsed, f"{response.status_code} {kind}"))
            except httpx.HTTPError as error:
                answers.append((elapsed, type(error).__name__))
            await asyncio.sleep(0.25)
    return answers


async def _measure(base: str, port: int, connections: int, seconds: float) -> dict[str, Any]:
    started = [time.monotonic()]
    closed_at: list[float] = []
    holders = []
    for _ in range(connections):
        holders.append(asyncio.create_task(_hold("127.0.0.1", port, started, closed_at)))
        await asyncio.sleep(0)
    await asyncio.sleep(0.5)
    started[0] = time.monotonic()  # the heads are sent: time from here
    answers = await _probe(base, started, seconds)
    open_at_end = sum(not task.done() for task in holders)
    for task in holders:
        task.cancel()
    await asyncio.gather(*holders, return_exceptions=True)
    per_second: dict[int, Counter[str]] = {}
    for elapsed, answer in answers:
        per_second.setdefault(int(elapsed), Counter())[answer] += 1
    return {
        "liveness_per_second": {
            second: dict(counts) for second, counts in sorted(per_second.items())
        },
        "held_closed_by_server": len(closed_at),
        "closed_between_s": [round(min(closed_at), 2), round(max(closed_at), 2)]
        if closed_at
        else None,
        "still_open_at_end": open_at_end,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2200)
    parser.add_argument("--seconds", type=float, default=16)
    args = parser.parse_args()
    defaults = Settings(_env_file=None)
    WORKDIR.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=WORKDIR) as scratch,
        embedded_database(Path(scratch) / "db") as url,
    ):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        service = start_service(url, port, Path(scratch))
        try:
            time_to_first_health(base, time.perf_counter())
            time.sleep(2)  # every worker up
            figures = asyncio.run(_measure(base, port, args.connections, args.seconds))
        finally:
            service.send_signal(signal.SIGINT)
            service.wait(60)
    results = {
        "connections": args.connections,
        "workers": defaults.AI_SERVICE_WORKERS,
        "max_concurrency": defaults.AI_SERVICE_MAX_CONCURRENCY,
        "head_timeout_s": defaults.REQUEST_HEAD_TIMEOUT_SECONDS,
        **figures,
    }
    for key, value in results.items():
        print(f"{key}: {value}")
    print(f"written to {save_results('held_heads', results)}")


if __name__ == "__main__":
    main()
