"""Shared fixtures: one in-process SecantusDB for the session, seeded with small demo data, and
an app trained on it. Builders live in `tests.factories`."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from secantus import SecantusDBServer

from app.config import Settings
from app.dev.demo.generator import generate
from app.dev.demo.mongo import write_demo_data
from tests.factories import SEED_SPEC, SEEDED_DB, make_settings, trained


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecantusDBServer]:
    server = SecantusDBServer(port=0, storage_path=str(tmp_path_factory.mktemp("secantus")))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def seeded_db(mongo_server: SecantusDBServer) -> str:
    """The name of a database filled once per session with SEED_SPEC's demo data."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    await write_demo_data(client[SEEDED_DB], SEED_SPEC)
    await client.close()
    return SEEDED_DB


@pytest.fixture(scope="session")
def documents() -> dict[str, list[dict[str, Any]]]:
    """The seeded documents, regenerated from the same seed, to compare pipelines with."""
    products, users, transactions = generate(SEED_SPEC)
    return {"products": products, "users": users, "transactions": transactions}


@pytest.fixture
def settings(mongo_server: SecantusDBServer, seeded_db: str, tmp_path: Path) -> Settings:
    """Settings of an app of its own over the seeded database."""
    return make_settings(mongo_server.uri, tmp_path, DATABASE_NAME=seeded_db)


@pytest.fixture
async def db(mongo_server: SecantusDBServer, seeded_db: str) -> AsyncIterator[AsyncDatabase]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    yield client[seeded_db]
    await client.close()


@pytest.fixture(scope="session")
async def client(
    mongo_server: SecantusDBServer, seeded_db: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """A running app whose three models are trained on the seeded data; tests only read."""
    settings = make_settings(
        mongo_server.uri, tmp_path_factory.mktemp("app"), DATABASE_NAME=seeded_db
    )
    async with trained(settings) as http:
        yield http
