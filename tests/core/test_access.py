"""Who may train and read: API keys, the loopback rule without keys, reads behind a key, the
training cooldown, cross-site requests and CORS. The apps here have no reachable database, so
a request the guards let through ends in a quick 503 (nothing to train on, no model)."""

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from loguru import logger
from pydantic import SecretStr

from app.core.http.access import is_loopback, key_matches
from app.core.http.cross_site import same_local_origin
from tests.factories import offline_settings, running

KEYS = "key-one,key-two"
REMOTE = "10.0.0.5"
TRAIN = "/api/v1/forecast/train"
NOT_TRAINED = 503  # what a request that passed every guard gets: no database, no model


@pytest.mark.parametrize("address", ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_addresses(address: str) -> None:
    assert is_loopback(address)


@pytest.mark.parametrize("address", ["10.0.0.5", "172.17.0.1", "::ffff:10.0.0.5", "x", None])
def test_other_addresses_are_not_loopback(address: str | None) -> None:
    assert not is_loopback(address)


def test_a_key_matches_any_configured_key_and_nothing_else() -> None:
    keys = [SecretStr("key-one"), SecretStr("key-two")]

    assert key_matches("key-two", keys)
    assert not key_matches("key-tw", keys)
    assert not key_matches("", keys)
    assert not key_matches(None, keys)
    assert not key_matches("ключ", keys)


@pytest.mark.slow
async def test_with_keys_training_needs_a_valid_key_from_anywhere(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path, API_KEYS=KEYS)
    async with running(settings, client_address=REMOTE) as client:
        missing = await client.post(TRAIN)
        wrong = await client.post(TRAIN, headers={"X-API-Key": "nope"})
        right = await client.post(TRAIN, headers={"X-API-Key": "key-two"})

    assert missing.status_code == wrong.status_code == 401
    assert (
        "send one of the service's API_KEYS in the `X-API-Key` header" in missing.json()["detail"]
    )
    assert wrong.json()["detail"].startswith("The `X-API-Key` header sent is not one of")
    assert missing.headers["WWW-Authenticate"] == 'ApiKey header="X-API-Key"'
    assert right.status_code == NOT_TRAINED


async def test_with_keys_loopback_needs_a_key_too(tmp_path: Path) -> None:
    async with running(offline_settings(tmp_path, API_KEYS=KEYS)) as client:
        response = await client.post(TRAIN)

    assert response.status_code == 401


@pytest.mark.slow
async def test_without_keys_training_is_open_to_loopback_only(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path)
    async with running(settings, client_address=REMOTE) as remote:
        refused = await remote.post(TRAIN, headers={"X-API-Key": "anything"})
    async with running(settings) as local:
        allowed = await local.post(TRAIN)

    assert refused.status_code == 403
    assert (
        "set API_KEYS on the service and send one in the `X-API-Key` header"
        in (refused.json()["detail"])
    )
    assert allowed.status_code == NOT_TRAINED


async def test_without_keys_start_up_warns(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path)
    async with running(settings):
        pass
    logger.complete()
    text = "".join(p.read_text() for p in settings.LOG_DIR.glob("ai_service_*.log"))

    assert "WARNING" in text
    assert "No API_KEYS set: training answers only calls from this machine" in text


async def test_reads_are_open_by_default_even_with_keys(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path, API_KEYS=KEYS)
    async with running(settings, client_address=REMOTE) as client:
        predict = await client.get("/api/v1/forecast/predict")
        status = await client.get("/status")

    assert predict.status_code == NOT_TRAINED
    assert status.status_code == 200


async def test_reads_need_a_key_when_asked_except_health_and_docs(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path, API_KEYS=KEYS, AUTH_REQUIRED_FOR_READS=True)
    guarded = [
        "/status",
        "/api/v1/forecast/predict",
        "/api/v1/forecast/status",
        "/api/v1/anomaly/recent",
        "/api/v1/recommend/user/u1",
    ]
    open_ = ["/", "/api/v1/health/", "/docs", "/redoc", "/openapi.json"]
    async with running(settings, client_address=REMOTE) as client:
        without = {path: (await client.get(path)).status_code for path in guarded}
        with_key = {
            path: (await client.get(path, headers={"X-API-Key": "key-one"})).status_code
            for path in guarded
        }
        detect = await client.post("/api/v1/anomaly/detect", json={"data_points": []})
        opened = {path: (await client.get(path)).status_code for path in open_}

    assert set(without.values()) == {401}
    assert 401 not in with_key.values()
    assert detect.status_code == 401
    assert set(opened.values()) == {200}


@pytest.mark.slow
async def test_a_training_ended_moments_ago_is_refused_with_retry_after(tmp_path: Path) -> None:
    """Two requests at once share one training (no 429); the next one, right after that
    training ended (in failure: no database), waits for the cooldown."""
    async with running(offline_settings(tmp_path, TRAIN_COOLDOWN_SECONDS=60)) as client:
        first, joined = await asyncio.gather(client.post(TRAIN), client.post(TRAIN))
        again = await client.post(TRAIN)
        other_model = await client.post("/api/v1/anomaly/train")

    assert first.status_code == joined.status_code == NOT_TRAINED
    assert again.status_code == 429
    assert 59 <= int(again.headers["Retry-After"]) <= 60
    assert re.match(r"The forecast model finished training \d s ago; it ", again.json()["detail"])
    assert "(TRAIN_COOLDOWN_SECONDS = 60)" in again.json()["detail"]
    assert other_model.status_code == NOT_TRAINED


@pytest.mark.slow
async def test_after_the_cooldown_training_is_allowed_again(tmp_path: Path) -> None:
    async with running(offline_settings(tmp_path, TRAIN_COOLDOWN_SECONDS=0.5)) as client:
        first = await client.post(TRAIN)
        await asyncio.sleep(0.6)
        later = await client.post(TRAIN)

    assert first.status_code == later.status_code == NOT_TRAINED


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        ("http://localhost:8000", "localhost:8000", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("http://localhost:8000", "localhost:9000", False),
        ("http://rebound.example:8000", "rebound.example:8000", False),
        ("null", "localhost:8000", False),
    ],
)
def test_same_local_origin(origin: str, host: str, same: bool) -> None:
    assert same_local_origin(origin, host) is same


@pytest.mark.slow
async def test_unsafe_requests_from_foreign_pages_are_refused(tmp_path: Path) -> None:
    """A `text/plain` POST needs no preflight, but browsers name the page's origin. (The
    rebound page's host is allowed here, so that this guard is tested alone: ALLOWED_HOSTS
    refuses it by default, tests/core/test_proxies_and_hosts.py.)"""
    settings = offline_settings(
        tmp_path,
        CORS_ORIGINS="https://dashboard.example",
        ALLOWED_HOSTS="testserver,localhost,evil.example",
    )
    async with running(settings) as client:
        foreign = await client.post(
            TRAIN, headers={"Origin": "https://evil.example", "Content-Type": "text/plain"}
        )
        listed = await client.post(TRAIN, headers={"Origin": "https://dashboard.example"})
        swagger = await client.post(
            TRAIN, headers={"Origin": "http://localhost:8000", "Host": "localhost:8000"}
        )
        rebound = await client.post(
            TRAIN, headers={"Origin": "http://evil.example:8000", "Host": "evil.example:8000"}
        )
        read = await client.get("/api/v1/health/", headers={"Origin": "https://evil.example"})
        no_origin = await client.post(TRAIN)

    assert foreign.status_code == rebound.status_code == 403
    assert foreign.json()["detail"] == (
        "Refused: a web page of origin 'https://evil.example' may not send POST requests to "
        "this service. Add that origin to CORS_ORIGINS if it should, or call from outside a "
        "browser."
    )
    assert listed.status_code == swagger.status_code == no_origin.status_code == NOT_TRAINED
    assert read.status_code == 200


async def _preflight(tmp_path: Path, origins: str, origin: str) -> httpx.Response:
    async with running(offline_settings(tmp_path, CORS_ORIGINS=origins)) as client:
        return await client.options(
            "/api/v1/anomaly/detect",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )


async def test_no_cross_origin_access_by_default(tmp_path: Path) -> None:
    response = await _preflight(tmp_path, "", "https://dashboard.example")

    assert "access-control-allow-origin" not in response.headers


async def test_listed_origins_get_cors_with_credentials(tmp_path: Path) -> None:
    response = await _preflight(tmp_path, "https://dashboard.example", "https://dashboard.example")

    assert response.headers["access-control-allow-origin"] == "https://dashboard.example"
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_a_wildcard_never_comes_with_credentials(tmp_path: Path) -> None:
    response = await _preflight(tmp_path, "*", "https://anywhere.example")

    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


async def test_openapi_documents_keys_and_the_new_answers(tmp_path: Path) -> None:
    async with running(offline_settings(tmp_path)) as client:
        schema = (await client.get("/openapi.json")).json()

    train = schema["paths"][TRAIN]["post"]["responses"]
    detect = schema["paths"]["/api/v1/anomaly/detect"]["post"]["responses"]
    assert {"401", "403", "429"} <= set(train)
    assert {"401", "403", "408", "413"} <= set(detect)
    assert "401" in schema["paths"]["/status"]["get"]["responses"]
    assert "401" not in schema["paths"]["/api/v1/health/"]["get"]["responses"]
    assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
