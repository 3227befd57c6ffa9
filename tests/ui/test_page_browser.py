"""The page in headless chromium (Debian's, driven by Playwright) against the service run as
`python -m app.server` over freshly written demo data, its models trained at start-up: no
console error, every section and chart shown, the numbers the JSON API answers, a working user
box, and no sideways scrolling at phone width. Skipped, saying how to install chromium,
without it."""

import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from secantus import SecantusDBServer

from tests.factories import served_over_demo_data

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL = "`apt-get install chromium` (and `pip install -r requirements-dev.txt`)"
pytestmark = [
    pytest.mark.slow,  # a browser, and the service as a process
    pytest.mark.skipif(CHROMIUM is None, reason=f"no chromium: {INSTALL} to run the browser tests"),
]
DATABASE = "ui_browser"
TRAINED_SECONDS = 240
PHONE_WIDTH = 390

if CHROMIUM is not None:
    playwright_api = pytest.importorskip("playwright.sync_api", reason=f"no Playwright: {INSTALL}")


def _busiest_user(url: str) -> str:
    client: MongoClient[dict[str, Any]] = MongoClient(url)
    try:
        top = (
            client[DATABASE]
            .transactions.aggregate(
                [
                    {"$group": {"_id": "$userId", "n": {"$sum": 1}}},
                    {"$sort": {"n": -1}},
                    {"$limit": 1},
                ]
            )
            .to_list()
        )
    finally:
        client.close()
    return str(top[0]["_id"])


@pytest.fixture(scope="module")
def served(mongo_server: SecantusDBServer) -> Iterator[str]:
    """The service over demo data of its own, once its three models are trained."""
    with served_over_demo_data(mongo_server.uri, DATABASE) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless chromium from the system, not a browser Playwright would download."""
    with playwright_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        except playwright_api.Error as exc:
            pytest.skip(f"Playwright could not start {CHROMIUM} ({exc}); {INSTALL}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page()
    yield page
    page.close()


def _opened(page: Any, url: str) -> list[str]:
    """Opens the page; returns the console errors and uncaught exceptions it raised."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    response = page.goto(url)
    assert response is not None
    assert response.status == 200
    return problems


def _cells(page: Any, selector: str, column: int) -> list[str]:
    texts: list[str] = page.locator(f"{selector} tbody tr").evaluate_all(
        f"rows => rows.map(row => row.cells[{column}].textContent.trim())"
    )
    return texts


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_every_section_and_chart_without_a_console_error(served: str, page: Any) -> None:
    problems = _opened(page, f"{served}/ui")

    assert problems == []
    for section in ("forecast", "anomalies", "recommendations", "health"):
        assert page.locator(f"section#{section} h2").is_visible()
    for chart in ("#forecast-chart svg", "#anomaly-chart svg"):
        box = page.locator(chart).bounding_box()
        assert box is not None
        assert box["width"] > 200
        assert box["height"] > 50
    assert page.locator("#forecast-chart polyline.actual").count() == 1
    assert page.locator("#forecast-chart polygon.band").count() == 1
    assert page.locator(".problem").count() == 0


def test_the_numbers_are_those_the_api_answers(served: str, page: Any) -> None:
    forecast = httpx.get(f"{served}/api/v1/forecast/predict").json()["forecast"]
    recent = httpx.get(f"{served}/api/v1/anomaly/recent?days=7&limit=10").json()
    evaluation = httpx.get(f"{served}/api/v1/recommend/status").json()["evaluation"]

    _opened(page, f"{served}/ui")

    assert [_number(t) for t in _cells(page, "#forecast-table", 1)] == [
        p["predicted_sales"] for p in forecast
    ]
    assert [int(t) for t in _cells(page, "#anomaly-table", 2)] == [
        d["flagged"] for d in recent["per_day"]
    ]
    assert page.locator("#anomaly-chart rect.bar").count() == 7
    assert _cells(page, "#most-anomalous", 6) == [
        t["transactionId"] for t in recent["most_anomalous"]
    ]
    assert [_number(t) for t in _cells(page, "#evaluation-table", 1)] == [
        round(row["ndcg_at_10"], 4) for row in evaluation.values()
    ]


def test_the_user_box_shows_the_users_recommendations(
    served: str, page: Any, mongo_server: SecantusDBServer
) -> None:
    user = _busiest_user(mongo_server.uri)
    api = httpx.get(f"{served}/api/v1/recommend/user/{user}").json()
    _opened(page, f"{served}/ui")

    page.fill("input[name=user]", user)
    page.get_by_role("button", name="Recommend", exact=True).click()
    page.wait_for_selector("#user-recommendations")

    assert api["strategy"] == "personalized"
    assert _cells(page, "#user-recommendations", 0) == [
        r["productName"] for r in api["recommendations"]
    ]


def test_a_phone_never_scrolls_sideways(served: str, browser: Any) -> None:
    phone = browser.new_page(viewport={"width": PHONE_WIDTH, "height": 800})
    try:
        phone.goto(f"{served}/ui")
        width = phone.evaluate("document.documentElement.scrollWidth")
    finally:
        phone.close()

    assert width <= PHONE_WIDTH
