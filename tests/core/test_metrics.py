"""/metrics: requests by route template, trainings, and what the registry and the database
watcher know, read at scrape time; one registry per application."""

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import free_port, make_settings, running

Labels = dict[str, str]


async def _samples(client: httpx.AsyncClient) -> dict[str, list[tuple[Labels, float]]]:
    """Every sample of /metrics, by sample name."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, list[tuple[Labels, float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def _value(samples: dict[str, list[tuple[Labels, float]]], name: str, **labels: str) -> float:
    """The value of the one sample of `name` whose labels include `labels`; 0 when none."""
    found = [v for have, v in samples.get(name, []) if labels.items() <= have.items()]
    assert len(found) <= 1, f"{name} {labels} matches {len(found)} samples"
    return found[0] if found else 0.0


async def test_requests_are_counted_by_route_template_never_by_raw_path(
    client: httpx.AsyncClient,
) -> None:
    before = await _samples(client)
    template = "/api/v1/recommend/user/{user_id}"
    for user in ("metrics-user-1", "metrics-user-2"):
        assert (await client.get(f"/api/v1/recommend/user/{user}")).status_code == 200
    assert (await client.get("/api/v1/no/such/path")).status_code == 404
    assert (await client.request("BREW", "/api/v1/health/")).status_code == 405
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs-assets/swagger-ui.css")).status_code == 200

    after = await _samples(client)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    ok = {"route": template, "method": "GET", "status": "200"}
    assert grew("ai_service_http_requests_total", **ok) == 2
    assert grew("ai_service_http_requests_total", route="unmatched", status="404") == 1
    assert grew("ai_service_http_requests_total", method="other", status="405") == 1
    assert grew("ai_service_http_requests_total", route="/openapi.json", status="200") == 1
    assert grew("ai_service_http_requests_total", route="/docs-assets", status="200") == 1
    latency = {"route": template, "method": "GET"}
    assert grew("ai_service_http_request_duration_seconds_count", **latency) == 2
    assert grew("ai_service_http_request_duration_seconds_bucket", **latency, le="+Inf") == 2
    routes = {labels["route"] for labels, _ in after["ai_service_http_requests_total"]}
    assert not any("metrics-user" in route for route in routes)


async def test_models_and_their_trainings_are_reported(client: httpx.AsyncClient) -> None:
    samples = await _samples(client)

    for name in ("forecast", "anomaly", "recommend"):
        status = (await client.get(f"/api/v1/{name}/status")).json()
        assert _value(samples, "ai_service_model_state", model=name, state="trained") == 1
        assert _value(samples, "ai_service_model_state", model=name, state="loading") == 0
        info = _value(samples, "ai_service_model_info", model=name, version=status["version"])
        assert info == 1
        assert _value(samples, "ai_service_model_rows_used", model=name) == status["rows_used"]
        assert _value(samples, "ai_service_model_age_seconds", model=name) >= 0
        trained = {"model": name, "outcome": "success"}
        assert _value(samples, "ai_service_trainings_total", **trained) >= 1
        assert _value(samples, "ai_service_training_duration_seconds_count", **trained) >= 1
        for phase in ("query", "fit"):
            phases = _value(
                samples, "ai_service_training_phase_seconds_count", model=name, phase=phase
            )
            assert phases >= 1
    assert _value(samples, "ai_service_database_up") == 1


async def test_metrics_stay_out_of_the_api_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert "/metrics" not in paths


@pytest.mark.slow
async def test_each_app_counts_its_own_requests_and_failed_trainings(tmp_path: Path) -> None:
    unreachable = f"mongodb://127.0.0.1:{free_port()}"  # nothing listens: nothing trains
    async with (
        running(make_settings(unreachable, tmp_path / "a")) as first,
        running(make_settings(unreachable, tmp_path / "b")) as second,
    ):
        for _ in range(3):
            await first.get("/api/v1/health/")
        train = await first.post("/api/v1/forecast/train")
        first_samples, second_samples = await _samples(first), await _samples(second)

    assert train.status_code == 503
    health = {"route": "/api/v1/health/", "status": "200"}
    assert _value(first_samples, "ai_service_http_requests_total", **health) == 3
    assert _value(second_samples, "ai_service_http_requests_total", **health) == 0
    failed = {"model": "forecast", "outcome": "failure"}
    assert _value(first_samples, "ai_service_trainings_total", **failed) == 1
    assert _value(second_samples, "ai_service_trainings_total", **failed) == 0
    assert _value(first_samples, "ai_service_database_up") == 0
    assert _value(first_samples, "ai_service_model_state", model="forecast", state="failed") == 1
    state = _value(first_samples, "ai_service_model_state", model="anomaly", state="not_trained")
    assert state == 1
    assert "ai_service_model_info" not in first_samples


async def test_metrics_need_metrics_key_when_it_is_set(tmp_path: Path) -> None:
    settings = make_settings(
        f"mongodb://127.0.0.1:{free_port()}",
        tmp_path,
        METRICS_KEY="scrape-secret",
        API_KEYS="key-one",
        AUTH_REQUIRED_FOR_READS=True,
    )
    async with running(settings) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        api_key = await client.get("/metrics", headers={"X-API-Key": "key-one"})
        bearer = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        header = await client.get("/metrics", headers={"X-API-Key": "scrape-secret"})

    assert missing.status_code == wrong.status_code == api_key.status_code == 401
    assert "METRICS_KEY" in missing.json()["detail"]
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert bearer.status_code == header.status_code == 200
    assert "scrape-secret" not in missing.text


async def test_without_metrics_key_metrics_are_open_even_when_reads_need_a_key(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        f"mongodb://127.0.0.1:{free_port()}",
        tmp_path,
        API_KEYS="key-one",
        AUTH_REQUIRED_FOR_READS=True,
    )
    async with running(settings) as client:
        response = await client.get("/metrics")

    assert response.status_code == 200


def test_an_empty_metrics_key_leaves_metrics_open(tmp_path: Path) -> None:
    """`METRICS_KEY=`, as .env.example has it, is unset, not an empty key no one could send."""
    settings = make_settings(f"mongodb://127.0.0.1:{free_port()}", tmp_path, METRICS_KEY=" ")

    assert settings.METRICS_KEY is None
