"""Proxy headers and hosts (issue 21, items 3 and 4): with no API_KEYS, a request relayed by a
proxy is never local; uvicorn reads `X-Forwarded-For` only from TRUSTED_PROXIES, whatever
FORWARDED_ALLOW_IPS says; a request addressed to a host not in ALLOWED_HOSTS gets a 400 JSON
sentence; a bind beyond loopback without keys is warned about in the log and in `/status`.
The apps here have no reachable database: nothing trains."""

from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from loguru import logger
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.config import Settings
from app.core.http.allowed_hosts import host_allowed, host_name
from app.server import server_options
from tests.factories import free_port, offline_settings, running, served_app

TRAIN = "/api/v1/forecast/train"
ROLLBACK = "/api/v1/models/forecast/rollback"
PROXY_HEADERS = [
    {"X-Forwarded-For": "127.0.0.1"},
    {"X-Forwarded-For": "127.0.0.1, 203.0.113.5"},
    {"Forwarded": "for=127.0.0.1"},
    {"X-Real-IP": "127.0.0.1"},
    {"X-Forwarded-Host": "127.0.0.1"},
    {"Via": "1.1 tunnel"},
    {"CF-Connecting-IP": "127.0.0.1"},
]


@pytest.mark.parametrize("headers", PROXY_HEADERS)
@pytest.mark.parametrize("path", [TRAIN, ROLLBACK])
async def test_without_keys_a_relayed_request_is_never_local(
    tmp_path: Path, path: str, headers: dict[str, str]
) -> None:
    """From loopback itself (a proxy on this machine), the headers say the caller is not."""
    async with running(offline_settings(tmp_path)) as client:
        response = await client.post(path, headers=headers)

    assert response.status_code == 403
    detail = response.json()["detail"]
    assert f"this request came through a proxy (it carries `{next(iter(headers))}`)" in detail
    assert "set API_KEYS on the service and send one in the `X-API-Key` header" in detail


def _config(settings: Settings) -> uvicorn.Config:
    config = uvicorn.Config(FastAPI(), **server_options(settings))
    config.load()
    return config


def test_the_environment_alone_never_turns_proxy_headers_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")

    config = _config(offline_settings(tmp_path))

    assert config.proxy_headers is False
    assert config.forwarded_allow_ips == []
    assert not isinstance(config.loaded_app, ProxyHeadersMiddleware)


def test_trusted_proxies_turn_proxy_headers_on_for_them_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")

    config = _config(offline_settings(tmp_path, TRUSTED_PROXIES="10.0.0.2, 172.18.0.0/16"))

    assert config.proxy_headers is True
    assert config.forwarded_allow_ips == ["10.0.0.2", "172.18.0.0/16"]
    assert isinstance(config.loaded_app, ProxyHeadersMiddleware)


def test_trusted_proxies_must_be_addresses(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        offline_settings(tmp_path, TRUSTED_PROXIES="proxy.example")


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:8000", "localhost"),
        ("LocalHost", "localhost"),
        ("127.0.0.1:8000", "127.0.0.1"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("ai_service:8000", "ai_service"),
        ("example.com.", "example.com"),
        ("", ""),
        ("[::1]anything", ""),
        ("[::1]:80x", ""),
    ],
)
def test_host_names(header: str, name: str) -> None:
    assert host_name(header) == name


def test_host_patterns() -> None:
    assert host_allowed("api.example.com", ["*.example.com"])
    assert not host_allowed("example.com", ["*.example.com"])
    assert not host_allowed("evil-example.com", ["*.example.com"])
    assert host_allowed("anything", ["localhost", "*"])
    assert not host_allowed("", ["localhost"])


@pytest.mark.parametrize("entry", ["example.com:8000", "http://example.com", "example.com/ui"])
def test_an_allowed_host_that_could_never_match_is_refused_at_start(entry: str) -> None:
    with pytest.raises(ValueError, match="ALLOWED_HOSTS"):
        Settings(_env_file=None, ALLOWED_HOSTS=[entry])


def test_an_allowed_host_with_a_trailing_dot_is_the_name() -> None:
    assert Settings(_env_file=None, ALLOWED_HOSTS=["example.com."]).ALLOWED_HOSTS == ["example.com"]


def test_allowed_hosts_default_to_loopback_and_the_compose_name() -> None:
    hosts = Settings(_env_file=None).ALLOWED_HOSTS

    assert set(hosts) == {"localhost", "127.0.0.1", "::1", "ai_service"}


@pytest.mark.parametrize(
    "host",
    [
        "localhost:8000",
        "127.0.0.1:8000",
        "[::1]:8000",
        "ai_service:8000",
        "LOCALHOST",
        "testserver",
    ],
)
async def test_allowed_hosts_are_served(tmp_path: Path, host: str) -> None:
    async with running(offline_settings(tmp_path)) as client:
        response = await client.get("/", headers={"Host": host})

    assert response.status_code == 200


async def test_a_foreign_host_gets_a_400_sentence_except_on_probes(tmp_path: Path) -> None:
    rebound = {"Host": "rebound.example:8000"}
    async with running(offline_settings(tmp_path)) as client:
        read = await client.get("/status", headers=rebound)
        train = await client.post(TRAIN, headers=rebound)
        detailed = await client.get("/api/v1/health/detailed", headers=rebound)
        probes = [
            (await client.get(path, headers={"Host": "10.1.2.3:8000"})).status_code
            for path in ("/api/v1/health/", "/api/v1/health/live", "/api/v1/health/ready")
        ]

    assert read.status_code == train.status_code == detailed.status_code == 400
    assert read.headers["content-type"] == "application/json"
    assert read.json() == {
        "detail": "Refused: this request is addressed to the host 'rebound.example:8000', not "
        "one this service answers to. Call it by one of its names, or add the name to "
        "ALLOWED_HOSTS."
    }
    assert 400 not in probes  # 200, or 503 for readiness: no model here


async def test_a_wildcard_allows_any_host_and_says_so(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path, ALLOWED_HOSTS="*", AI_SERVICE_HOST="127.0.0.1")
    async with running(settings) as client:
        response = await client.get("/status", headers={"Host": "anything.example"})

    assert response.status_code == 200
    assert [w for w in response.json()["warnings"] if w.startswith("ALLOWED_HOSTS=*")]


async def test_a_bind_beyond_loopback_without_keys_warns_in_the_log_and_status(
    tmp_path: Path,
) -> None:
    settings = offline_settings(tmp_path, AI_SERVICE_HOST="0.0.0.0")
    async with running(settings) as client:
        warnings = (await client.get("/status")).json()["warnings"]
    logger.complete()
    text = "".join(p.read_text() for p in settings.LOG_DIR.glob("ai_service_*.log"))

    assert len(warnings) == 1
    assert warnings[0].startswith("No API_KEYS set and the service listens on 0.0.0.0")
    assert "WARNING" in text
    assert warnings[0] in text


@pytest.mark.parametrize(
    "overrides", [{"AI_SERVICE_HOST": "127.0.0.1"}, {"AI_SERVICE_HOST": "0.0.0.0", "API_KEYS": "k"}]
)
async def test_no_warning_on_loopback_or_with_keys(
    tmp_path: Path, overrides: dict[str, str]
) -> None:
    headers = {"X-API-Key": "k"}
    async with running(offline_settings(tmp_path, **overrides)) as client:
        status = (await client.get("/status", headers=headers)).json()

    assert status["warnings"] == []


@pytest.mark.slow
def test_the_served_app_ignores_forwarded_allow_ips_and_foreign_hosts(tmp_path: Path) -> None:
    """`python -m app.server` with FORWARDED_ALLOW_IPS=* in its environment, as uvicorn's docs
    suggest in containers: a training relayed as from 127.0.0.1 is still refused."""
    offline = f"mongodb://127.0.0.1:{free_port()}"
    with served_app(offline, "nothing", tmp_path, FORWARDED_ALLOW_IPS="*") as base:
        relayed = httpx.post(f"{base}{TRAIN}", headers={"X-Forwarded-For": "127.0.0.1"})
        foreign = httpx.get(f"{base}/", headers={"Host": "rebound.example"})
        live = httpx.get(f"{base}/api/v1/health/live", headers={"Host": "10.1.2.3:8000"})
        own = httpx.get(f"{base}/")

    assert relayed.status_code == 403
    assert "came through a proxy" in relayed.json()["detail"]
    assert foreign.status_code == 400
    assert foreign.json()["detail"].startswith("Refused: this request is addressed to the host")
    assert live.status_code == own.status_code == 200
