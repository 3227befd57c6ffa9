"""Schema fuzzing: schemathesis writes requests, valid and invalid, for every operation of the
OpenAPI schema the service serves, and checks each answer: never a 5xx, and its status code,
content type, headers and body as the schema documents them (app/dev/fuzzing.py).

The reads go to the session's app trained on the seeded data (`client`), then to an app without
models; the three trainings to apps of their own, once each, so that the shared models stay as
the other tests expect them. Generation is derandomized: CI sends the same requests at every
run. `python -m bench.fuzz` runs many more against a live server.

Schemathesis's pytest plugin runs its Hypothesis tests synchronously, so each request is run to
its end on the event loop the apps live on, idle meanwhile. The schema is built at import, as
the plugin needs it to collect the tests (its fixture-based loader fails on pytest 9.2);
`test_the_fuzzed_schema_is_the_served_one` checks it is the one served."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from secantus import SecantusDBServer

from app.config import Settings
from app.dev.demo.generator import generate
from app.dev.fuzzing import KnownValues, fuzz_config
from app.main import create_app
from tests.factories import SEED_SPEC, SEEDED_DB, make_settings, running

pytestmark = pytest.mark.slow  # trained apps, and hundreds of requests


def _seeded_values() -> KnownValues:
    products, users, _ = generate(SEED_SPEC)
    return KnownValues(
        users=tuple(user["userId"] for user in users),
        products=tuple(product["productId"] for product in products),
        categories=tuple(sorted({product["category"] for product in products})),
    )


# The schema that the app serves at /openapi.json (test_the_fuzzed_schema_is_the_served_one).
DOCUMENT = create_app(Settings(_env_file=None)).openapi()
CONFIG = fuzz_config(examples=25, known=_seeded_values())
TRAIN = r"/train$"
READS = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG).exclude(path_regex=TRAIN)
TRAININGS = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG).include(path_regex=TRAIN)
BASE = "http://testserver"


async def _send(client: httpx.AsyncClient, case: schemathesis.Case) -> httpx.Response:
    """The case's request, serialized as schemathesis sends it, through the app's client."""
    request = requests.Request(**case.as_transport_kwargs(base_url=BASE)).prepare()
    assert request.method is not None
    assert request.url is not None
    headers = [
        (name, value.decode("latin-1") if isinstance(value, bytes) else value)
        for name, value in request.headers.items()
    ]
    body = request.body.encode() if isinstance(request.body, str) else request.body
    assert body is None or isinstance(body, bytes)
    return await client.request(request.method, request.url, headers=headers, content=body)


@pytest.fixture(scope="session")
async def app_loop() -> asyncio.AbstractEventLoop:
    """The event loop the session's apps run on: idle while a synchronous test runs."""
    return asyncio.get_running_loop()


@pytest.fixture(scope="module")
async def untrained(
    mongo_server: SecantusDBServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """An app over an empty database: no model, so predictions are 503s."""
    directory = tmp_path_factory.mktemp("untrained")
    async with running(make_settings(mongo_server.uri, directory, DATABASE_NAME="empty")) as http:
        yield http


async def test_the_fuzzed_schema_is_the_served_one(client: httpx.AsyncClient) -> None:
    assert (await client.get("/openapi.json")).json() == DOCUMENT


@READS.parametrize()
def test_every_answer_is_documented(
    case: schemathesis.Case, client: httpx.AsyncClient, app_loop: asyncio.AbstractEventLoop
) -> None:
    response = app_loop.run_until_complete(_send(client, case))

    case.validate_response(response)


@READS.parametrize()
def test_every_answer_without_models_is_documented(
    case: schemathesis.Case, untrained: httpx.AsyncClient, app_loop: asyncio.AbstractEventLoop
) -> None:
    """Without models, predictions answer the 503 that says how to train: a 5xx, but one the
    schema documents, so `not_a_server_error` gives way to status_code_conformance here."""
    response = app_loop.run_until_complete(_send(untrained, case))

    case.validate_response(response, excluded_checks=[not_a_server_error])
    assert response.status_code < 500 or response.status_code == 503, response.text


@pytest.mark.usefixtures("seeded_db")
@pytest.mark.parametrize(("database", "status"), [(SEEDED_DB, 200), ("empty", 409)])
async def test_every_training_answer_is_documented(
    mongo_server: SecantusDBServer, tmp_path: Path, database: str, status: int
) -> None:
    """One request each: a training takes seconds, and the operations take no parameters."""
    results = list(TRAININGS.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) == 3
    async with running(make_settings(mongo_server.uri, tmp_path, DATABASE_NAME=database)) as client:
        for operation in operations:
            case = operation.Case()
            response = await _send(client, case)

            case.validate_response(response)
            assert response.status_code == status, response.text
