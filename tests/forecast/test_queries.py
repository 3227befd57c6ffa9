"""The daily-sales pipeline against SecantusDB, compared with plain Python over the same
documents (regenerated from the same seed)."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from secantus import SecantusDBServer

from app.config import Settings
from app.forecast.queries import ForecastQueries
from tests.factories import NON_SALES, NOW, SEED_SPEC, make_settings


def _day(moment: datetime) -> pd.Timestamp:
    return pd.Timestamp(moment.astimezone(UTC).date())


async def test_daily_sales_match_python_and_fill_empty_days(
    db: AsyncDatabase, settings: Settings, documents: dict
) -> None:
    end = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=90)
    category_of = {p["productId"]: p["category"] for p in documents["products"]}
    expected: dict[pd.Timestamp, float] = defaultdict(float)
    by_category: dict[tuple[str, pd.Timestamp], float] = defaultdict(float)
    for t in documents["transactions"]:
        if start <= t["transactionDate"] < end and t["status"] not in NON_SALES:
            expected[_day(t["transactionDate"])] += t["totalPrice"]
            by_category[category_of[t["productId"]], _day(t["transactionDate"])] += t["totalPrice"]

    queries = ForecastQueries(db, settings)
    await queries.update_rollup(start, end)
    series, categories = await queries.daily_sales(start, end)

    assert len(series) == 90
    assert series.index[0] == pd.Timestamp(start.date())
    assert series.index[-1] == pd.Timestamp((end - timedelta(days=1)).date())
    for day, value in series.items():
        assert value == pytest.approx(expected.get(day, 0.0), rel=1e-9, abs=1e-6)
    assert (series == 0).sum() >= 90 - SEED_SPEC.days - 1
    assert sorted(categories.columns) == sorted({category for category, _ in by_category})
    assert categories.index.equals(series.index)
    for (category, day), value in by_category.items():
        assert categories.at[day, category] == pytest.approx(value, rel=1e-9, abs=1e-6)
    assert categories.sum(axis=1).to_numpy() == pytest.approx(series.to_numpy())


async def test_sales_of_unknown_products_count_in_the_total_only(
    mongo_server: SecantusDBServer, tmp_path: Any
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path, PRODUCT_CATEGORY_FIELD="department")
    client: AsyncMongoClient = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    db = client["unknown_products"]
    day = NOW - timedelta(days=1)
    await db.products.insert_many(
        [
            {"productId": "p1", "department": " Toys "},
            {"productId": "p2", "department": ""},
            {"name": "no id", "department": "Books"},
        ]
    )
    await db.transactions.insert_many(
        [
            {"productId": p, "transactionDate": day, "totalPrice": price, "status": "completed"}
            for p, price in [("p1", 10.0), ("p1", 2.5), ("p2", 4.0), ("gone", 7.0)]
        ]
        + [{"transactionDate": day, "totalPrice": 1.0, "status": "completed"}]
    )
    end = NOW.replace(hour=0, minute=0, second=0, microsecond=0)

    queries = ForecastQueries(db, settings)
    await queries.update_rollup(end - timedelta(days=2), end)
    total, categories = await queries.daily_sales(end - timedelta(days=2), end)

    await client.drop_database("unknown_products")
    await client.close()
    assert total.tolist() == [0.0, 24.5]
    assert list(categories.columns) == ["Toys"]
    assert categories["Toys"].tolist() == [0.0, 12.5]


async def test_field_names_come_from_configuration(
    mongo_server: SecantusDBServer, tmp_path: Any
) -> None:
    settings = make_settings(
        mongo_server.uri,
        tmp_path,
        TRANSACTION_DATE_FIELD="timestamp",
        TRANSACTION_AMOUNT_FIELD="totalAmount",
    )
    client: AsyncMongoClient = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    db = client["renamed_fields"]
    now = NOW
    await db.transactions.insert_many(
        [
            {"timestamp": now - timedelta(days=1), "totalAmount": 10.0, "status": "completed"},
            {"timestamp": now - timedelta(days=1), "totalAmount": 5.5, "status": "pending"},
            {"timestamp": now - timedelta(days=1), "totalAmount": 99.0, "status": "failed"},
        ]
    )
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)

    queries = ForecastQueries(db, settings)
    await queries.update_rollup(end - timedelta(days=3), end)
    series, categories = await queries.daily_sales(end - timedelta(days=3), end)

    await client.drop_database("renamed_fields")
    await client.close()
    assert series.tolist() == [0.0, 0.0, 15.5]
    assert categories.empty
