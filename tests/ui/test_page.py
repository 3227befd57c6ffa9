"""`GET /ui` over the session's trained app (seeded demo data): each section shows what the API
answers; and over apps whose models cannot answer, each section says why instead of failing."""

import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from secantus import SecantusDBServer

from tests.factories import free_port, make_settings, running

SECTIONS = ("forecast", "anomalies", "recommendations", "health")


def _table(html: str, table_id: str) -> list[list[str]]:
    """The cells of a table's body rows, tags stripped."""
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body is not None, f"no table {table_id}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


def _money(text: str) -> float:
    return float(text.replace(",", ""))


def _busiest_user(documents: dict[str, list[dict[str, Any]]]) -> str:
    user: str = Counter(t["userId"] for t in documents["transactions"]).most_common(1)[0][0]
    return user


async def test_every_section_and_its_chart_are_shown(client: httpx.AsyncClient) -> None:
    default = (await client.get("/api/v1/forecast/predict")).json()["forecast"]

    response = await client.get("/ui")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for section in SECTIONS:
        assert f'<section id="{section}"' in html
    assert '<figure class="chart" id="forecast-chart"><svg' in html
    assert '<figure class="chart" id="anomaly-chart"><svg' in html
    assert "<script" not in html
    assert 'class="problem"' not in html
    assert len(_table(html, "forecast-table")) == len(default)  # FORECAST_HORIZON days


async def test_forecast_shows_the_api_forecast_and_the_backtest(client: httpx.AsyncClient) -> None:
    api = (await client.get("/api/v1/forecast/predict", params={"horizon": 10})).json()
    status = (await client.get("/api/v1/forecast/status")).json()

    html = (await client.get("/ui", params={"horizon": 10})).text

    shown = _table(html, "forecast-table")
    assert [row[0] for row in shown] == [p["date"] for p in api["forecast"]]
    assert [_money(row[1]) for row in shown] == [p["predicted_sales"] for p in api["forecast"]]
    assert [_money(row[3]) for row in shown] == [p["upper"] for p in api["forecast"]]
    methods = [row[0].split(" (")[0] for row in _table(html, "backtest-table")]
    assert methods == list(status["backtest"])
    assert status["explanation"] in html.replace("&#39;", "'")
    assert f"{status['runner_up']} (runner-up)" in html
    assert status["version"] in html
    assert len(_table(html, "actuals-table")) == 56


async def test_a_category_forecast_is_the_api_one(client: httpx.AsyncClient) -> None:
    category = (await client.get("/api/v1/forecast/categories")).json()["categories"][0]
    api = (
        await client.get("/api/v1/forecast/predict", params={"category": category["category"]})
    ).json()

    html = (await client.get("/ui", params={"category": category["category"], "horizon": 7})).text

    shown = _table(html, "forecast-table")
    assert [_money(row[1]) for row in shown] == [p["predicted_sales"] for p in api["forecast"]]
    assert f"selected>{category['category']}</option>" in html
    methods = {row[0].split(" (")[0] for row in _table(html, "backtest-table")}
    assert {"seasonal_naive", category["served"]} <= methods


async def test_anomalies_per_day_are_the_api_counts(client: httpx.AsyncClient) -> None:
    api = (await client.get("/api/v1/anomaly/recent", params={"days": 30, "limit": 10})).json()

    html = (await client.get("/ui", params={"days": 30})).text

    per_day = _table(html, "anomaly-table")
    assert [(row[0], int(row[2])) for row in per_day] == [
        (day["date"], day["flagged"]) for day in api["per_day"]
    ]
    assert len(re.findall(r'<rect class="bar"', html)) == 30
    most = _table(html, "most-anomalous")
    assert [row[-1] for row in most] == [t["transactionId"] for t in api["most_anomalous"]]
    assert api["most_anomalous"][0]["explanation"][0]["sentence"] in html.replace("&#39;", "'")
    assert 'href="/api/v1/anomaly/recent?days=30&amp;limit=10"' in html
    assert f'<strong id="flag-rate">{api["flag_rate_note"]}</strong>' in html


async def test_recommendations_show_the_evaluation_and_a_users_products(
    client: httpx.AsyncClient, documents: dict[str, list[dict[str, Any]]]
) -> None:
    user = _busiest_user(documents)
    api = (await client.get(f"/api/v1/recommend/user/{user}")).json()
    status = (await client.get("/api/v1/recommend/status")).json()

    html = (await client.get("/ui", params={"user": user})).text

    evaluation = {row[0].split(" (")[0]: row[1] for row in _table(html, "evaluation-table")}
    assert evaluation == {
        model: f"{row['ndcg_at_10']:,.4f}" for model, row in status["evaluation"].items()
    }
    shown = _table(html, "user-recommendations")
    assert [row[0] for row in shown] == [r["productName"] for r in api["recommendations"]]
    assert [float(row[4]) for row in shown] == [
        round(r["score"], 4) for r in api["recommendations"]
    ]


async def test_similar_products_are_the_api_ones(client: httpx.AsyncClient) -> None:
    popular = (await client.get("/api/v1/recommend/user/nobody")).json()["recommendations"]
    product = popular[0]["productId"]
    api = (await client.get(f"/api/v1/recommend/product/{product}/similar")).json()

    html = (await client.get("/ui", params={"product": product})).text

    shown = _table(html, "similar-products")
    assert [row[0] for row in shown] == [r["productName"] for r in api["recommendations"]]


async def test_health_shows_each_model(client: httpx.AsyncClient) -> None:
    html = (await client.get("/ui")).text

    rows = {row[0]: row for row in _table(html, "health-table")}
    assert set(rows) == {"forecast", "anomaly", "recommend"}
    for name, row in rows.items():
        status = (await client.get(f"/api/v1/{name}/status")).json()
        assert row[1] == "trained"
        assert row[3] == status["version"]
        assert row[5] == f"{status['rows_used']:,}"
    assert ">connected<" in html


async def test_what_a_visitor_types_is_escaped(client: httpx.AsyncClient) -> None:
    typed = '<script>alert("x")</script>'

    html = (await client.get("/ui", params={"user": typed, "product": typed})).text

    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "is not among the" in html  # the unknown product's 404 sentence, in its section


async def test_an_unknown_category_is_said_in_its_section(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui", params={"category": "No Such Thing"})

    assert response.status_code == 200
    assert "Unknown category" in response.text
    assert '<figure class="chart" id="anomaly-chart"><svg' in response.text


async def test_untrained_models_are_said_in_each_section(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path, DATABASE_NAME="ui_empty")
    async with running(settings) as client:
        response = await client.get("/ui")

    assert response.status_code == 200
    problems = re.findall(r'<p class="problem" role="status">(.*?)</p>', response.text, re.S)
    assert any("forecast model is not trained" in p for p in problems)
    assert any("anomaly model is not trained" in p for p in problems)
    assert any("recommendation model" in p or "recommend" in p for p in problems)


async def test_a_database_that_is_down_is_said_not_failed(tmp_path: Path) -> None:
    settings = make_settings(f"mongodb://127.0.0.1:{free_port()}", tmp_path)
    async with running(settings) as client:
        response = await client.get("/ui", params={"user": "someone", "days": 30})

    assert response.status_code == 200
    assert "unreachable" in response.text
    assert response.text.count('class="problem"') >= 3
