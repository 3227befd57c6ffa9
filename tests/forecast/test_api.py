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
    ("horizon", "detail"),
    [
        ("0", "Query parameter 'horizon': Input should be greater than or equal to 1 (got '0')."),
        ("31", "Query parameter 'horizon': Input should be less than or equal to 30 (got '31')."),
        (
            "abc",
            "Query parameter 'horizon': Input should be a valid integer, unable to parse string "
            "as an integer (got 'abc').",
        ),
    ],
)
async def test_predict_rejects_bad_horizon(
    client: httpx.AsyncClient, horizon: str, detail: str
) -> None:
    response = await client.get("/api/v1/forecast/predict", params={"horizon": horizon})

    assert response.status_code == 422
    assert response.json()["detail"] == detail
    assert response.json()["errors"][0]["loc"] == ["query", "horizon"]


async def test_status_reports_model_and_metrics(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/forecast/status")).json()

    assert body["is_trained"] is True
    assert body["state"] == "trained"
    assert body["model_type"] == "RandomForestRegressor"
    assert {"mae", "rmse", "r2_score", "baseline_seasonal_naive_mae"} <= set(body["metrics"])
    assert datetime.fromisoformat(body["last_retrain_time"]) >= NOW
    assert body["forecast_horizon_default"] == 7
