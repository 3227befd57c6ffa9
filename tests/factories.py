"""Builders shared by the tests: a fixed test clock and seeded demo data, settings and a running
app, and the small data sets the models are tested on."""

import asyncio
import dataclasses
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pandas as pd
from asgi_lifespan import LifespanManager
from pymongo import AsyncMongoClient

from app.config import DEFAULT_ALLOWED_HOSTS, Settings
from app.core.clock import Clock
from app.dev.demo.mongo import write_demo_data
from app.dev.demo.spec import DemoDataSpec
from app.main import create_app

if TYPE_CHECKING:
    from app.forecast.inputs import ForecastInput
    from app.recommend.inputs import Config
    from app.recommend.model import ModelType, Purchases

# The tests' "now": midday UTC of a fixed date, so that no test depends on the wall clock (a
# run never crosses midnight on this clock). `test_clock` moves on from it in real time, so
# that trainings one after the other get later times.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
_STARTED = time.monotonic()

SEEDED_DB = "seeded"
TEST_HOST = "testserver"  # the host the in-process clients call (ALLOWED_HOSTS of test apps)
WINDOW_DAYS = 60
NON_SALES = {"failed", "returned"}
SEED_SPEC = DemoDataSpec(days=70, transactions=3_000, users=120, products=60, seed=7, end=NOW)


def test_clock() -> datetime:
    return NOW + timedelta(seconds=time.monotonic() - _STARTED)


def server_now() -> datetime:
    """MongoDB's clock in the tests, which judges leases and abandoned jobs: the session's
    SecantusDB runs in this process, on the wall clock (months after `NOW`)."""
    return datetime.now(UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served_app(mongo_url: str, database: str, directory: Path, **env: str) -> Iterator[str]:
    """The service on a real port, as `python -m app.server` runs it (with the wall clock);
    yields its base URL once it answers."""
    port = free_port()
    environment = {
        **os.environ,
        "MONGODB_URL": mongo_url,
        "DATABASE_NAME": database,
        "AI_SERVICE_HOST": "127.0.0.1",
        "AI_SERVICE_PORT": str(port),
        "MODEL_SAVE_PATH": str(directory / "models"),
        "MODEL_SIGNING_KEY_FILE": str(directory / "signing.key"),
        "LOG_DIR": str(directory / "logs"),
        "UNTRAINED_RETRY_MINUTES": "0",
        "RETRAIN_INTERVAL_HOURS": "0",
        "TRAIN_WAIT_SECONDS": "600",
        "TRAIN_COOLDOWN_SECONDS": "0",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.server"],
        cwd=Path(__file__).resolve().parents[1],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/v1/health/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(30)


@contextmanager
def served_over_demo_data(
    mongo_url: str, database: str, seconds: float = 240, **env: str
) -> Iterator[str]:
    """`served_app` over the tests' small demo data ending now (the served app runs on the
    wall clock), written to `database`; yields once its three models are trained."""
    asyncio.run(_write_fresh_demo_data(mongo_url, database))
    settings = {"DATA_COLLECTION_DAYS": str(WINDOW_DAYS), **env}
    with served_app(mongo_url, database, Path(tempfile.mkdtemp()), **settings) as base:
        deadline = time.monotonic() + seconds
        while not httpx.get(f"{base}/status", timeout=5).json()["models_loaded"]:
            if time.monotonic() > deadline:
                raise AssertionError(f"the served app's models were not trained in {seconds} s")
            time.sleep(0.5)
        yield base


async def _write_fresh_demo_data(url: str, database: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    await client.drop_database(database)
    await write_demo_data(client[database], dataclasses.replace(SEED_SPEC, end=datetime.now(UTC)))
    await client.close()


def make_settings(url: str, directory: Path, **overrides: Any) -> Settings:
    """Settings for a test app: its own model and log directories, fast DB timeouts, and no
    training cooldown (tests train again and again; tests/core/test_access.py tests it)."""
    values: dict[str, Any] = {
        "MONGODB_URL": url,
        "DATABASE_NAME": SEEDED_DB,
        "MODEL_SAVE_PATH": directory / "models",
        "MODEL_SIGNING_KEY_FILE": directory / "secrets" / "signing.key",
        "LOG_DIR": directory / "logs",
        "RETRAIN_INTERVAL_HOURS": 0,
        "UNTRAINED_RETRY_MINUTES": 0,
        "DATA_COLLECTION_DAYS": WINDOW_DAYS,
        "DB_WATCH_INTERVAL_SECONDS": 0.2,
        "MONGODB_TIMEOUT_MS": 500,
        # A train call waits for its training (200), however slow the machine; the tests of the
        # 202 answer set 0.
        "TRAIN_WAIT_SECONDS": 600,
        # Each app its own jobs and training leases: one test's lease never holds another's.
        "JOBS_COLLECTION": f"jobs_{uuid.uuid4().hex[:12]}",
        "TRAIN_COOLDOWN_SECONDS": 0,
        # The in-process clients' host (`running`'s base URL), besides the default names.
        "ALLOWED_HOSTS": [*DEFAULT_ALLOWED_HOSTS, TEST_HOST],
        **overrides,
    }
    return Settings(_env_file=None, **values)


def offline_settings(directory: Path, **overrides: Any) -> Settings:
    """Settings of an app whose database never answers: no training at start-up, and a request
    that needs data or a model gets a quick 503."""
    return make_settings(f"mongodb://127.0.0.1:{free_port()}", directory, **overrides)


@asynccontextmanager
async def running(
    settings: Settings, clock: Clock = test_clock, client_address: str = "127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan started, and an httpx client talking to it in-process from
    `client_address` (loopback unless told)."""
    app = create_app(settings, clock)
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=120) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, client=(client_address, 50_000)),
            base_url=f"http://{TEST_HOST}",
        ) as client,
    ):
        yield client


@asynccontextmanager
async def trained(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """`running`, once every model is trained."""
    async with running(settings) as client:
        await wait_trained(client)
        yield client


async def wait_until(
    condition: Callable[[], Awaitable[bool]], seconds: float = 300, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def wait_trained(client: httpx.AsyncClient, seconds: float = 300) -> None:
    async def all_trained() -> bool:
        loaded: bool = (await client.get("/status")).json()["models_loaded"]
        return loaded

    await wait_until(all_trained, seconds, "every model to be trained")


def weekly_series(days: int = 120, seed: int = 0) -> pd.Series:
    """Sales with a trend and weekends 40% above weekdays, plus a little noise."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-06-01", periods=days, freq="D")
    base = 1000 + 4 * np.arange(days)
    values = base * np.where(index.day_of_week >= 5, 1.4, 1.0) + rng.normal(0, 20, days)
    return pd.Series(values, index=index)


CATEGORIES = ("Books", "Toys", "Sports")
_DAY = 86_400.0


def taste_events(users: int = 60, per_user: int = 6, seed: int = 0) -> pd.DataFrame:
    """Purchases with a planted pattern: user u prefers category u % 3 and buys 85 % of the
    time among its ten products (p0-p9 Books, p10-p19 Toys, p20-p29 Sports), over the 60 days
    before NOW; `date` in epoch seconds."""
    rng = np.random.default_rng(seed)
    end = NOW.timestamp()
    rows = []
    for user in range(users):
        for _ in range(per_user):
            category = user % 3 if rng.random() < 0.85 else int(rng.integers(3))
            item = category * 10 + int(rng.integers(10))
            date = end - float(rng.uniform(0, 60)) * _DAY
            rows.append((f"u{user}", f"p{item}", int(rng.integers(1, 4)), date))
    return pd.DataFrame(rows, columns=["userId", "productId", "quantity", "date"])


def category_of(product_id: str) -> str:
    return CATEGORIES[int(product_id[1:]) // 10]


def taste_purchases(events: pd.DataFrame | None = None, eval_days: int = 14) -> "Purchases":
    """`taste_events` grouped as the training read groups them, 14 days held out."""
    from app.recommend.model import Purchases

    events = taste_events() if events is None else events
    end = NOW.timestamp()
    return Purchases.from_events(events, cutoff=end - eval_days * _DAY, end=end)


def recommender_config(model_type: "ModelType" = "auto", max_model_mb: float = 512) -> "Config":
    from app.recommend.inputs import Config

    return Config(model_type=model_type, components=8, max_model_mb=max_model_mb, min_items=3)


HELD_FIT_DIR = "TEST_HELD_FIT_DIR"


def held_forecast_fit(data: "ForecastInput") -> object:
    """A forecast fit, run in the worker process, that writes its process id to `started` in
    the directory named by $TEST_HELD_FIT_DIR, then waits until a `release` file appears there
    (or a minute has passed) before fitting."""
    import os

    from app.forecast.model import fit_model

    directory = Path(os.environ[HELD_FIT_DIR])
    (directory / "started").write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not (directory / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return fit_model(data)


def priced_sample(rows: int = 3000, products: int = 40, seed: int = 1) -> list[dict[str, Any]]:
    """Sampled transactions as the anomaly training reads them: products whose usual unit
    prices range from 2 to 2,000 (each sold within ±10 % of it), quantities 1-5."""
    rng = np.random.default_rng(seed)
    usual = np.geomspace(2, 2000, products)
    product = rng.integers(0, products, rows)
    quantity = rng.integers(1, 6, rows)
    unit = usual[product] * rng.uniform(0.9, 1.1, rows)
    return [
        {"amount": float(u * q), "quantity": int(q), "productId": f"p{p}"}
        for u, q, p in zip(unit, quantity, product, strict=True)
    ]


def usual_prices(products: int = 40) -> dict[str, float]:
    """The usual unit price of each product of `priced_sample`."""
    return {f"p{i}": float(price) for i, price in enumerate(np.geomspace(2, 2000, products))}


def product_references(products: int = 40) -> dict[str, tuple[float, float]]:
    """Each product of `priced_sample` with its usual unit price and median quantity (3)."""
    return {product: (price, 3.0) for product, price in usual_prices(products).items()}
