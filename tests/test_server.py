import pickle
from functools import partial
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from app.server import server_options
from app.server_protocol import HeadTimeoutProtocol
from tests.factories import make_settings


def test_uvicorn_gets_the_connection_and_shutdown_settings(tmp_path: Path) -> None:
    settings = make_settings(
        "mongodb://127.0.0.1:1",
        tmp_path,
        AI_SERVICE_KEEP_ALIVE_SECONDS=90,
        AI_SERVICE_GRACEFUL_SHUTDOWN_SECONDS=4,
        AI_SERVICE_MAX_CONCURRENCY=300,
        AI_SERVICE_WORKERS=3,
        REQUEST_HEAD_TIMEOUT_SECONDS=7,
    )

    config = uvicorn.Config(FastAPI(), **server_options(settings))

    assert config.timeout_keep_alive == 90
    assert config.timeout_graceful_shutdown == 4
    assert config.limit_concurrency == 300
    assert config.access_log is False
    assert config.workers == 3
    assert config.loop == "uvloop"
    assert isinstance(config.http, partial)
    assert config.http.func is HeadTimeoutProtocol
    assert config.http.keywords == {"head_timeout": 7}
    # uvicorn's workers are spawned: the protocol must reach them pickled.
    assert pickle.loads(pickle.dumps(config.http)).keywords == {"head_timeout": 7}


def test_defaults_outlast_client_pools_and_stop_within_docker_grace(tmp_path: Path) -> None:
    settings = make_settings("mongodb://127.0.0.1:1", tmp_path)
    config = uvicorn.Config(FastAPI(), **server_options(settings))

    assert config.timeout_keep_alive > 5  # httpx's and Node's idle pools: about 5 s
    assert config.timeout_graceful_shutdown is not None
    assert config.timeout_graceful_shutdown < 10  # docker's default kill delay
    assert isinstance(config.http, partial)
    assert 0 < config.http.keywords["head_timeout"] <= 10
