"""The probes (/api/v1/health/live and /ready) and the `loading` state of a saved model."""

import threading
from pathlib import Path

import httpx
import pytest

from app.core.store import ArtifactStore
from tests.factories import free_port, make_settings, running, wait_until


async def test_live_and_ready_when_every_model_is_live(client: httpx.AsyncClient) -> None:
    live = await client.get("/api/v1/health/live")
    ready = await client.get("/api/v1/health/ready")

    assert live.status_code == 200
    assert live.json() == {"status": "ok", "message": "AI service is running"}
    assert "X-Model-Version" not in live.headers  # no model answered
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "models": {"forecast": "trained", "anomaly": "trained", "recommend": "trained"},
        "missing": [],
        "database_connected": True,
        "message": "Every model is live.",
    }


@pytest.fixture
def held_load(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Saved models are read only once the returned event is set."""
    release = threading.Event()
    read = ArtifactStore.load_current

    def held(store: ArtifactStore, name: str, model_type: str) -> object:
        release.wait(60)
        return read(store, name, model_type)

    monkeypatch.setattr(ArtifactStore, "load_current", held)
    return release


async def test_a_model_being_loaded_asks_to_retry_and_the_instance_is_not_ready(
    held_load: threading.Event, tmp_path: Path
) -> None:
    unreachable = f"mongodb://127.0.0.1:{free_port()}"  # nothing listens: nothing trains
    try:
        async with running(make_settings(unreachable, tmp_path)) as client:

            async def loading() -> bool:
                states = (await client.get("/status")).json()["models"]
                return bool(states["forecast"] == "loading")

            await wait_until(loading, what="the forecast model to be loading")
            live = await client.get("/api/v1/health/live")
            predict = await client.get("/api/v1/forecast/predict")
            during = await client.get("/api/v1/health/ready")
            metrics = (await client.get("/metrics")).text
            held_load.set()

            async def loaded() -> bool:
                body = (await client.get("/api/v1/health/ready")).json()
                return "being loaded" not in body["message"]

            await wait_until(loaded, what="loading to end")
            after = await client.get("/api/v1/health/ready")
            predict_after = await client.get("/api/v1/forecast/predict")
    finally:
        held_load.set()

    assert live.status_code == 200
    assert predict.status_code == 503
    assert "X-Model-Version" not in predict.headers
    assert predict.json()["detail"] == (
        "The forecast model is loading from disk (state: loading); it answers in a few "
        "seconds. Retry shortly; there is no need to train it."
    )
    assert during.status_code == 503
    assert during.json()["status"] == "not_ready"
    assert during.json()["missing"] == ["forecast", "anomaly", "recommend"]
    assert during.json()["database_connected"] is False
    assert during.json()["message"] == (
        "Not ready: the saved models are still being loaded; nothing live yet for forecast "
        "(loading), anomaly (not_trained), recommend (not_trained)."
    )
    assert 'ai_service_model_state{model="forecast",state="loading"} 1.0' in metrics
    assert after.status_code == 503
    assert after.json()["message"] == (
        "Not ready: nothing live yet for forecast (not_trained), anomaly (not_trained), "
        "recommend (not_trained)."
    )
    assert predict_after.json()["detail"].startswith("The forecast model is not trained yet")
