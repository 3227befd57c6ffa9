"""The analysts' page on demo data: how fast it answers, and a screenshot of it.

    python -m bench.ui [--size 50000] [--workdir bench/.data] [--gets 50]   (`make screenshot`)

Writes demo data into a SecantusDB child process (kept in --workdir and reused), starts the
service as a child process on free ports, waits for its models, then:
- times `GET /api/v1/anomaly/recent` for 7 and 30 days (the scan behind the anomaly section);
- times the first `GET /ui` (nothing cached) and then --gets more (p50/p99);
- saves a screenshot of the page (14 days of forecast, a user's recommendations and products
  like the first one shown), with headless chromium, to docs/img/ui.png.
Results are also written to bench/results/ui.json.
"""

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from bench.demo_db import embedded_database, seed
from bench.serving import ROOT, percentiles, save_results, trained_service

SCREENSHOT = ROOT / "docs" / "img" / "ui.png"


def _timed(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    client.get(url).raise_for_status()
    return (time.perf_counter() - started) * 1000


def _screenshot(url: str) -> str:
    """A full-page screenshot at desktop width, with the system's chromium."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("No chromium: `apt-get install chromium` to take the screenshot.")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            page.screenshot(path=SCREENSHOT, full_page=True)
        finally:
            browser.close()
    return str(SCREENSHOT.relative_to(ROOT))


def run(size: int, workdir: Path, gets: int) -> dict[str, Any]:
    with embedded_database(workdir / f"db-{size}") as url:
        _, user = seed(url, size)
        with trained_service(url, workdir) as (base, _):
            page = f"{base}/ui?horizon=14&user={user}"
            with httpx.Client(timeout=120) as client:
                recent = {
                    f"recent days={days}": round(
                        _timed(client, f"{base}/api/v1/anomaly/recent?days={days}&limit=10")
                    )
                    for days in (7, 30)
                }
                first = _timed(client, page)
                samples = [_timed(client, page) for _ in range(gets)]
                cold_30 = _timed(client, f"{page}&days=30")
                liked = client.get(f"{base}/api/v1/recommend/user/{user}").json()
            product = liked["recommendations"][0]["productId"]
            saved = _screenshot(f"{page}&product={product}")
    return {
        "transactions": size,
        "anomaly_recent_ms": recent,
        "ui_first_ms": round(first),
        "ui_first_days30_ms": round(cold_30),
        "ui_ms": percentiles(samples),
        "screenshot": saved,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".data")
    parser.add_argument("--gets", type=int, default=50)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    result = run(args.size, args.workdir, args.gets)
    print(f"## GET /ui, {result['transactions']:,} demo transactions")
    for name, ms in result["anomaly_recent_ms"].items():
        print(f"{name}: {ms} ms")
    print(f"first GET /ui (anomalies not cached): {result['ui_first_ms']} ms")
    print(f"first GET /ui?days=30 (not cached): {result['ui_first_days30_ms']} ms")
    timing = result["ui_ms"]
    print(f"GET /ui x {timing['n']}: p50 {timing['p50']} ms, p99 {timing['p99']} ms")
    print(f"screenshot: {result['screenshot']}")
    print(f"results: {save_results('ui', result)}")


if __name__ == "__main__":
    main()
