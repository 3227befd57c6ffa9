"""Shared fixtures: one in-process SecantusDB for the session, seeded with small demo data, and
helpers to run the app with its lifespan over httpx."""

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pymongo import AsyncMongoClient
from secantus import SecantusDBServer

from app.config import Settings
from app.demo_data import DemoDataSpec, write_demo_data
from app.main import create_app

SEEDED_DB = "seeded"
WINDOW_DAYS = 60
SEED_SPEC = DemoDataSpec(
    days=70,
    transactions=3_000,
    users=120,
    products=60,
    seed=7,
    end=datetime.now(UTC).replace(minute=0, second=0, microsecond=0),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecantusDBServer]:
    server = SecantusDBServer(port=0, storage_path=str(tmp_path_factory.mktemp("secantus")))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def seeded_db(mongo_server: SecantusDBServer) -> str:
    """The name of a database filled once per session with SEED_SPEC's demo data."""
    client: AsyncMongoClient = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    await write_demo_data(client[SEEDED_DB], SEED_SPEC)
    await client.close()
    return SEEDED_DB


def make_settings(url: str, directory: Path, **overrides: Any) -> Settings:
    """Settings for a test app: its own model and log directories, fast DB timeouts."""
    values: dict[str, Any] = {
        "MONGODB_URL": url,
        "DATABASE_NAME": SEEDED_DB,
        "MODEL_SAVE_PATH": directory / "models",
        "LOG_DIR": directory / "logs",
        "RETRAIN_INTERVAL_HOURS": 0,
        "UNTRAINED_RETRY_MINUTES": 0,
        "DATA_COLLECTION_DAYS": WINDOW_DAYS,
        "DB_WATCH_INTERVAL_SECONDS": 0.2,
        "MONGODB_TIMEOUT_MS": 500,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan started, and an httpx client talking to it in-process."""
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=120) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as client,
    ):
        yield client


async def wait_until(
    condition: Callable[[], Awaitable[bool]], seconds: float = 120, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def wait_trained(client: httpx.AsyncClient, seconds: float = 120) -> None:
    async def all_trained() -> bool:
        return (await client.get("/status")).json()["models_loaded"]

    await wait_until(all_trained, seconds, "every model to be trained")


@pytest.fixture(scope="session")
async def client(
    mongo_server: SecantusDBServer, seeded_db: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """A running app whose three models are trained on the seeded data; tests only read."""
    settings = make_settings(mongo_server.uri, tmp_path_factory.mktemp("app"))
    async with running(settings) as http:
        await wait_trained(http)
        yield http
