"""The daily sales rollup against the raw transactions: on random data, updated day after day
while late transactions arrive and statuses change, the sales read from the rollup equal those
summed from the transactions in Python, within the settle window; older changes wait for a
rebuild, which catches them up."""

import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from secantus import SecantusDBServer

from app.config import Settings
from app.forecast.queries import DAILY_PRODUCT_SALES, ForecastQueries
from tests.factories import NON_SALES, NOW, make_settings

END = NOW.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=5)
DAYS = 12
SETTLE_DAYS = 3
PRODUCTS = [f"p{k}" for k in range(6)]
STATUSES = ["completed", "pending", "returned", "failed"]


@pytest.fixture
async def rollup_db(mongo_server: SecantusDBServer) -> AsyncIterator[AsyncDatabase]:
    client: AsyncMongoClient = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    db = client["rollup_property"]
    await db.products.insert_many(
        [{"productId": p, "category": f"c{k % 3}"} for k, p in enumerate(PRODUCTS)]
    )
    yield db
    await client.drop_database("rollup_property")
    await client.close()


@pytest.fixture
def rollup_settings(mongo_server: SecantusDBServer, tmp_path: Any) -> Settings:
    return make_settings(mongo_server.uri, tmp_path, ROLLUP_SETTLE_DAYS=SETTLE_DAYS)


def _transactions(rng: random.Random, first: datetime, days: int, n: int) -> list[dict]:
    return [
        {
            "productId": rng.choice(PRODUCTS),
            "transactionDate": first + timedelta(seconds=rng.uniform(0, days * 86_400)),
            "totalPrice": round(rng.uniform(1, 50), 2),
            "status": rng.choice(STATUSES),
        }
        for _ in range(n)
    ]


async def _raw(db: AsyncDatabase, start: datetime, end: datetime) -> dict[datetime, float]:
    """Sales per day summed in Python from every transaction."""
    sums: dict[datetime, float] = {}
    async for t in db.transactions.find({"transactionDate": {"$gte": start, "$lt": end}}):
        if t["status"] not in NON_SALES:
            day = t["transactionDate"].replace(hour=0, minute=0, second=0, microsecond=0)
            sums[day] = sums.get(day, 0.0) + t["totalPrice"]
    return sums


async def _assert_equal(
    queries: ForecastQueries, db: AsyncDatabase, start: datetime, end: datetime
):
    total, _ = await queries.daily_sales(start, end)
    raw = await _raw(db, start, end)
    for day, value in total.items():
        assert value == pytest.approx(raw.get(day.tz_localize("UTC"), 0.0), abs=1e-6), day


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_updates_day_after_day_equal_the_raw_sums(
    rollup_db: AsyncDatabase, rollup_settings: Settings, seed: int
) -> None:
    rng = random.Random(seed)
    queries = ForecastQueries(rollup_db, rollup_settings)
    start = END - timedelta(days=DAYS)
    await rollup_db.transactions.insert_many(_transactions(rng, start, DAYS, 300))
    first = await queries.update_rollup(start, END)
    assert first.start == start
    assert first.written > 0
    await _assert_equal(queries, rollup_db, start, END)

    for day in range(1, 4):  # each new day: its sales, late arrivals, changed statuses
        end = END + timedelta(days=day)
        await rollup_db.transactions.insert_many(
            _transactions(rng, end - timedelta(days=1), 1, 40)
            + _transactions(rng, end - timedelta(days=SETTLE_DAYS), SETTLE_DAYS - 1, 10)
        )
        settled = end - timedelta(days=SETTLE_DAYS)
        async for t in rollup_db.transactions.find({"transactionDate": {"$gte": settled}}):
            if rng.random() < 0.2:
                status = rng.choice(STATUSES)
                await rollup_db.transactions.update_one(
                    {"_id": t["_id"]}, {"$set": {"status": status}}
                )
        run = await queries.update_rollup(start, end)
        assert run.start == end - timedelta(days=1 + SETTLE_DAYS)
        await _assert_equal(queries, rollup_db, start, end)


async def test_an_old_change_waits_for_a_rebuild_and_a_longer_window_is_filled(
    rollup_db: AsyncDatabase, rollup_settings: Settings
) -> None:
    rng = random.Random(7)
    queries = ForecastQueries(rollup_db, rollup_settings)
    start = END - timedelta(days=DAYS)
    await rollup_db.transactions.insert_many(_transactions(rng, start, DAYS, 200))
    await queries.update_rollup(start, END)
    old = await rollup_db.transactions.find_one(
        {"transactionDate": {"$lt": start + timedelta(days=1)}, "status": "completed"}
    )
    assert old is not None
    await rollup_db.transactions.update_one({"_id": old["_id"]}, {"$set": {"status": "returned"}})

    up_to_date = await queries.update_rollup(start, END)
    day = start
    before, _ = await queries.daily_sales(start, start + timedelta(days=1))
    assert up_to_date.start == END - timedelta(days=SETTLE_DAYS)
    assert before.iloc[0] != pytest.approx(
        (await _raw(rollup_db, day, day + timedelta(days=1)))[day]
    )

    await queries.rebuild_rollup(start, END)
    await _assert_equal(queries, rollup_db, start, END)

    longer = start - timedelta(days=4)
    await rollup_db.transactions.insert_many(_transactions(rng, longer, 4, 50))
    widened = await queries.update_rollup(longer, END)
    assert widened.start == longer
    await _assert_equal(queries, rollup_db, longer, END)
    days = await rollup_db[DAILY_PRODUCT_SALES].distinct("_id.day")
    assert min(days) == longer
    assert max(days) < END


async def test_a_training_updates_the_rollup_and_a_rebuild_aggregates_the_window(
    client: httpx.AsyncClient,
) -> None:
    async def rollup_rows() -> float:
        jobs = (await client.get("/api/v1/jobs", params={"model": "forecast"})).json()["jobs"]
        timings = jobs[0]["timings"]
        assert timings["rollup_seconds"] <= timings["query_seconds"]
        return float(timings["rollup_rows"])

    again = await client.post("/api/v1/forecast/train")
    settled = await rollup_rows()
    rebuilt = await client.post("/api/v1/forecast/train", params={"rebuild_rollups": "true"})
    whole = await rollup_rows()

    assert again.status_code == rebuilt.status_code == 200
    assert 0 < settled < whole
    assert rebuilt.json()["metrics"] == again.json()["metrics"]
