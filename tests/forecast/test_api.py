from datetime import date, datetime, timedelta

import httpx
import pytest

from tests.factories import NOW


async def test_predict_returns_consecutive_future_days(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/forecast/predict", params={"horizon": 7})

    assert response.status_code == 200
    body = response.json()
    assert body["message"].startswith("Sales forecast for the next 7 days")
    days = [date.fromisoformat(p["date"]) for p in body["forecast"]]
    today = NOW.date()
    assert days == [today + timedelta(days=i) for i in range(7)]
    values = [p["predicted_sales"] for p in body["forecast"]]
    assert min(values) >= 0
    assert max(values) - min(values) > 0.01 * (sum(values) / len(values))


async def test_predict_defaults_to_seven_days_and_reaches_thirty(
    client: httpx.AsyncClient,
) -> None:
    default = await client.get("/api/v1/forecast/predict")
    longest = await client.get("/api/v1/forecast/predict", params={"horizon": 30})

    assert len(default.json()["forecast"]) == 7
    assert len(longest.json()["forecast"]) == 30
    assert longest.json()["forecast"][:7] == default.json()["forecast"]


@pytest.mark.parametrize(
    ("parameter", "value", "detail"),
    [
        (
            "horizon",
            "0",
            "Query parameter 'horizon': Input should be greater than or equal to 1 (got '0').",
        ),
        (
            "horizon",
            "31",
            "Query parameter 'horizon': Input should be less than or equal to 30 (got '31').",
        ),
        (
            "level",
            "49",
            "Query parameter 'level': Input should be greater than or equal to 50 (got '49').",
        ),
        (
            "level",
            "100",
            "Query parameter 'level': Input should be less than or equal to 99 (got '100').",
        ),
        (
            "horizon",
            "abc",
            "Query parameter 'horizon': Input should be a valid integer, unable to parse string "
            "as an integer (got 'abc').",
        ),
    ],
)
async def test_predict_rejects_a_bad_horizon_or_level(
    client: httpx.AsyncClient, parameter: str, value: str, detail: str
) -> None:
    response = await client.get("/api/v1/forecast/predict", params={parameter: value})

    assert response.status_code == 422
    assert response.json()["detail"] == detail
    assert response.json()["errors"][0]["loc"] == ["query", parameter]


async def test_status_reports_model_and_metrics(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/forecast/status")).json()

    assert body["is_trained"] is True
    assert body["state"] == "trained"
    assert body["model_type"] == "auto"
    assert body["served"] == "auto"
    assert {"mase_h7", "mase_h28", "seasonal_naive_mase_h28", "wape_h28"} <= set(body["metrics"])
    assert {"seasonal_naive", "weekday_mean_28", "ETS", "Theta", "auto"} <= set(body["backtest"])
    assert len(body["members"]) == 5
    assert set(body["members"]) <= set(body["backtest"])
    assert "the best 5 of 7 methods" in body["explanation"]
    assert body["runner_up"] in body["backtest"]
    assert body["backtest"]["seasonal_naive"]["origins"] > 0
    assert datetime.fromisoformat(body["last_retrain_time"]) >= NOW
    assert body["forecast_horizon_default"] == 7


async def test_predict_gives_intervals_at_the_asked_level(client: httpx.AsyncClient) -> None:
    default = (await client.get("/api/v1/forecast/predict")).json()
    wide = (await client.get("/api/v1/forecast/predict", params={"level": 95})).json()

    assert default["level"] == 80
    assert wide["level"] == 95
    assert default["model_type"] == "auto"
    assert default["backtest_mase"]["h7"] > 0
    for point, wider in zip(default["forecast"], wide["forecast"], strict=True):
        assert 0 <= point["lower"] <= point["predicted_sales"] <= point["upper"]
        assert wider["upper"] - wider["lower"] >= point["upper"] - point["lower"]


async def test_categories_lists_each_sold_category_with_its_backtest(
    client: httpx.AsyncClient, documents: dict
) -> None:
    body = (await client.get("/api/v1/forecast/categories")).json()
    status = (await client.get("/api/v1/forecast/status")).json()

    sold = {p["category"] for p in documents["products"]}
    listed = [c["category"] for c in body["categories"]]
    assert set(listed) | set(body["skipped"]) <= sold
    assert len(listed) >= 5
    assert listed == status["categories"]
    for row in body["categories"]:
        assert row["served"] == "auto"
        assert "of 5 methods" in row["explanation"]
        assert row["mase_h7"] > 0
        assert row["seasonal_naive_mase_h7"] > 0


async def test_answers_name_the_version_of_the_model_that_served_them(
    client: httpx.AsyncClient,
) -> None:
    status = await client.get("/api/v1/forecast/status")
    predict = await client.get("/api/v1/forecast/predict")
    categories = await client.get("/api/v1/forecast/categories")

    version = status.json()["version"]
    assert version
    assert status.headers["X-Model-Version"] == version
    for answer in (predict, categories):
        assert answer.headers["X-Model-Version"] == answer.json()["model_version"] == version


async def test_a_category_is_forecast_from_its_own_sales(client: httpx.AsyncClient) -> None:
    category = (await client.get("/api/v1/forecast/categories")).json()["categories"][0]["category"]
    total = (await client.get("/api/v1/forecast/predict", params={"horizon": 14})).json()
    response = await client.get(
        "/api/v1/forecast/predict", params={"horizon": 14, "category": category.upper()}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["category"] == category
    assert total["category"] is None
    assert body["message"].startswith(f"{category} sales forecast for the next 14 days")
    own = [p["predicted_sales"] for p in body["forecast"]]
    whole = [p["predicted_sales"] for p in total["forecast"]]
    assert 0 < sum(own) < sum(whole)
    for point in body["forecast"]:
        assert 0 <= point["lower"] <= point["predicted_sales"] <= point["upper"]


async def test_an_unknown_category_is_a_404_that_lists_the_known_ones(
    client: httpx.AsyncClient,
) -> None:
    known = (await client.get("/api/v1/forecast/status")).json()["categories"]

    response = await client.get("/api/v1/forecast/predict", params={"category": "Spaceships"})

    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail.startswith("Unknown category 'Spaceships'; the categories with a forecast are: ")
    assert all(name in detail for name in known)


async def test_an_empty_category_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/forecast/predict", params={"category": ""})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("Query parameter 'category': String should have")
