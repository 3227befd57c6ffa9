"""Each pipeline against SecantusDB, compared with a plain-Python computation over the same
documents (regenerated from the same seed)."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from pymongo import AsyncMongoClient
from secantus import SecantusDBServer

from app.config import Settings
from app.demo_data import generate
from app.services.data_processor import DataProcessor
from tests.conftest import SEED_SPEC, make_settings

NON_SALES = {"failed", "returned"}


@pytest.fixture(scope="module")
def documents() -> dict[str, list[dict[str, Any]]]:
    products, users, transactions = generate(SEED_SPEC)
    return {"products": products, "users": users, "transactions": transactions}


@pytest.fixture
async def data(mongo_server: SecantusDBServer, seeded_db: str, tmp_path: Any) -> Any:
    settings: Settings = make_settings(mongo_server.uri, tmp_path)
    client: AsyncMongoClient = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    yield DataProcessor(client[seeded_db], settings)
    await client.close()


def _day(moment: datetime) -> pd.Timestamp:
    return pd.Timestamp(moment.astimezone(UTC).date())


async def test_daily_sales_match_python_and_fill_empty_days(
    data: DataProcessor, documents: dict
) -> None:
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=90)
    expected: dict[pd.Timestamp, float] = defaultdict(float)
    for t in documents["transactions"]:
        if start <= t["transactionDate"] < end and t["status"] not in NON_SALES:
            expected[_day(t["transactionDate"])] += t["totalPrice"]

    series = await data.daily_sales(start, end)

    assert len(series) == 90
    assert series.index[0] == pd.Timestamp(start.date())
    assert series.index[-1] == pd.Timestamp((end - timedelta(days=1)).date())
    for day, value in series.items():
        assert value == pytest.approx(expected.get(day, 0.0), rel=1e-9, abs=1e-6)
    assert (series == 0).sum() >= 90 - SEED_SPEC.days - 1


async def test_interactions_sum_quantity_for_users_with_enough_products(
    data: DataProcessor, documents: dict
) -> None:
    start = datetime.now(UTC) - timedelta(days=30)
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for t in documents["transactions"]:
        if t["transactionDate"] >= start and t["status"] not in NON_SALES:
            totals[(t["userId"], t["productId"])] += t["quantity"]
    products_per_user: dict[str, int] = defaultdict(int)
    for user, _ in totals:
        products_per_user[user] += 1
    expected = {k: v for k, v in totals.items() if products_per_user[k[0]] >= 3}

    frame = await data.user_item_interactions(start, min_items=3)

    found = {
        (str(u), str(p)): q
        for u, p, q in zip(frame.userId, frame.productId, frame.quantity, strict=True)
    }
    assert found == expected
    assert isinstance(frame.userId.dtype, pd.CategoricalDtype)


async def test_sample_is_bounded_and_drawn_from_the_window(
    data: DataProcessor, documents: dict
) -> None:
    start = datetime.now(UTC) - timedelta(days=20)
    window = {
        (t["totalPrice"], t["quantity"])
        for t in documents["transactions"]
        if t["transactionDate"] >= start
    }

    sample = await data.transaction_sample(start, size=200)

    assert list(sample.columns) == ["totalAmount", "quantity"]
    assert len(sample) == 200
    assert set(zip(sample.totalAmount, sample.quantity, strict=True)) <= window


async def test_products_by_id_come_with_name_category_price_stock(
    data: DataProcessor, documents: dict
) -> None:
    wanted = documents["products"][:3]

    found = await data.products([p["productId"] for p in wanted] + ["missing"])

    assert found == {
        p["productId"]: {
            "productName": p["name"],
            "category": p["category"],
            "price": p["price"],
            "stock": p["stock"],
        }
        for p in wanted
    }


async def test_bought_among_candidates_includes_every_status(
    data: DataProcessor, documents: dict
) -> None:
    user = documents["transactions"][0]["userId"]
    bought = {t["productId"] for t in documents["transactions"] if t["userId"] == user}
    catalogue = [p["productId"] for p in documents["products"]]

    assert await data.bought_among(user, catalogue) == bought
    assert await data.bought_among(user, catalogue[:5]) == bought & set(catalogue[:5])
    assert await data.bought_among("nobody", catalogue) == set()


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
    now = datetime.now(UTC)
    await db.transactions.insert_many(
        [
            {"timestamp": now - timedelta(days=1), "totalAmount": 10.0, "status": "completed"},
            {"timestamp": now - timedelta(days=1), "totalAmount": 5.5, "status": "pending"},
            {"timestamp": now - timedelta(days=1), "totalAmount": 99.0, "status": "failed"},
        ]
    )
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)

    series = await DataProcessor(db, settings).daily_sales(end - timedelta(days=3), end)

    await client.drop_database("renamed_fields")
    await client.close()
    assert series.tolist() == [0.0, 0.0, 15.5]


@pytest.mark.parametrize(("seconds", "expected"), [(60, "Old name"), (0, "New name")])
async def test_product_details_are_reused_for_the_cache_time(
    mongo_server: SecantusDBServer, tmp_path: Any, seconds: float, expected: str
) -> None:
    client: AsyncMongoClient = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    db = client[f"catalogue_{seconds}"]
    await db.products.insert_one({"productId": "p1", "name": "Old name", "price": 5, "stock": 2})
    data = DataProcessor(
        db, make_settings(mongo_server.uri, tmp_path, PRODUCT_CACHE_SECONDS=seconds)
    )

    first = await data.products(["p1", "p2"])
    await db.products.update_one({"productId": "p1"}, {"$set": {"name": "New name"}})
    await db.products.insert_one({"productId": "p2", "name": "Added later"})
    second = await data.products(["p1", "p2"])

    await client.drop_database(f"catalogue_{seconds}")
    await client.close()
    assert first == {"p1": {"productName": "Old name", "category": None, "price": 5.0, "stock": 2}}
    assert second["p1"]["productName"] == expected
    assert second["p2"]["productName"] == "Added later"
