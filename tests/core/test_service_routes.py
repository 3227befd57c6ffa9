from datetime import datetime

import httpx
import pytest

from tests.factories import NOW


async def test_root_gives_welcome_and_version(client: httpx.AsyncClient) -> None:
    body = (await client.get("/")).json()

    assert body == {
        "message": "Welcome to the Adaptive BI AI Service!",
        "version": "2.0.0",
        "ui": "/ui",
        "docs": "/docs",
    }


async def test_status_shows_database_and_models(client: httpx.AsyncClient) -> None:
    body = (await client.get("/status")).json()

    assert body["status"] == "running"
    assert body["database_connected"] is True
    assert body["models_loaded"] is True
    assert body["forecasting_model_trained"] is True
    assert body["anomaly_model_trained"] is True
    assert body["recommendation_model_trained"] is True
    assert datetime.fromisoformat(body["last_retrain_time"]) >= NOW
    assert body["models"] == {"forecast": "trained", "anomaly": "trained", "recommend": "trained"}
    assert "the best 5 of 7 methods" in body["forecast_served"]


async def test_liveness(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": "AI service is running"}


async def test_detailed_health_when_all_is_well(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health/detailed")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["database_status"] == "connected"
    assert set(body["models_status"].values()) == {"trained"}


async def test_request_id_is_returned_or_echoed(client: httpx.AsyncClient) -> None:
    fresh = await client.get("/api/v1/health/")
    echoed = await client.get("/api/v1/health/", headers={"X-Request-ID": "abc-123"})

    assert len(fresh.headers["X-Request-ID"]) == 32
    assert echoed.headers["X-Request-ID"] == "abc-123"


async def test_unknown_path_is_a_readable_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing")

    assert response.status_code == 404
    assert response.json() == {"detail": "No such endpoint; the API is listed at /docs."}


async def test_docs_and_openapi_describe_the_backend_calls(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert docs.status_code == 200
    assert {
        "/api/v1/forecast/predict",
        "/api/v1/anomaly/detect",
        "/api/v1/recommend/user/{user_id}",
        "/status",
        "/api/v1/forecast/train",
        "/api/v1/anomaly/train",
        "/api/v1/recommend/train",
    } <= set(paths)
    assert "503" in paths["/api/v1/forecast/predict"]["get"]["responses"]


@pytest.mark.parametrize("name", ["forecast", "anomaly", "recommend"])
async def test_train_endpoint_retrains_and_reports(client: httpx.AsyncClient, name: str) -> None:
    before = (await client.get(f"/api/v1/{name}/status")).json()["last_retrain_time"]

    response = await client.post(f"/api/v1/{name}/train")

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == f"The {name} model was trained on {body['rows_used']} rows."
    assert body["rows_used"] > 0
    assert body["metrics"]
    assert body["libraries"]["scikit-learn"]
    after = (await client.get(f"/api/v1/{name}/status")).json()["last_retrain_time"]
    assert after == body["trained_at"] != before
