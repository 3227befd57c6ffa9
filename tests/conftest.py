"""Shared fixtures: one in-process SecantusDB for the session, seeded with small demo data, and
an app trained on it. Builders live in `tests.factories`.

Two tiers: `make test` runs every test, `make test-fast` those not marked `slow` (`pytest -m
"not slow"`). A test is slow when it trains the service's models, starts processes (the server,
uvicorn or loky workers, subprocesses, a browser) or otherwise takes more than about a second.
Every test that uses a fixture of TRAINING_FIXTURES is marked here at collection, so a new one
cannot be left in the fast tier; any other slow test is marked where it is written, with
`pytestmark = pytest.mark.slow` for a whole module or `@pytest.mark.slow` on the test."""

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

# Fixtures whose setup trains the service's models (the first test to use one waits for it).
TRAINING_FIXTURES = frozenset({"client"})


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `slow` every test that uses a training fixture, directly or through another one."""
    for item in items:
        if TRAINING_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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
    """A running app whose three models are trained on the seeded data. Tests read from it,
    except tests/core/test_service_routes.py's `test_train_endpoint_retrains_and_reports`,
    which retrains each model through `POST /api/v1/{name}/train`. That is safe: the retraining
    reads the same seeded data with the same settings (its window only minutes later on the
    test clock), so the models stay what the other tests expect; only each model's version and
    training time move on, and no test compares those with what another test read. The schema
    fuzzing (tests/core/test_schema_fuzz.py) also sends rollbacks to it, for versions that do
    not exist: they answer 404 and change nothing."""
    settings = make_settings(
        mongo_server.uri, tmp_path_factory.mktemp("app"), DATABASE_NAME=seeded_db
    )
    async with trained(settings) as http:
        yield http
