"""The recommender's pipelines against SecantusDB, compared with plain Python over the same
documents (regenerated from the same seed)."""

from collections import defaultdict
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from secantus import SecantusDBServer

from app.config import Settings
from app.recommend.queries import RecommendQueries
from tests.factories import NON_SALES, NOW, make_settings


@pytest.fixture
def queries(db: AsyncDatabase, settings: Settings) -> RecommendQueries:
    return RecommendQueries(db, settings)


async def test_interactions_sum_quantity_for_users_with_enough_products(
    queries: RecommendQueries, documents: dict
) -> None:
    start = NOW - timedelta(days=30)
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for t in documents["transactions"]:
        if t["transactionDate"] >= start and t["status"] not in NON_SALES:
            totals[(t["userId"], t["productId"])] += t["quantity"]
    products_per_user: dict[str, int] = defaultdict(int)
    for user, _ in totals:
        products_per_user[user] += 1
    expected = {k: v for k, v in totals.items() if products_per_user[k[0]] >= 3}

    frame = await queries.user_item_interactions(start, min_items=3)

    found = {
        (str(u), str(p)): q
        for u, p, q in zip(frame.userId, frame.productId, frame.quantity, strict=True)
    }
    assert found == expected
    assert isinstance(frame.userId.dtype, pd.CategoricalDtype)


async def test_products_by_id_come_with_name_category_price_stock(
    queries: RecommendQueries, documents: dict
) -> None:
    wanted = documents["products"][:3]

    found = await queries.products([p["productId"] for p in wanted] + ["missing"])

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
    queries: RecommendQueries, documents: dict
) -> None:
    user = documents["transactions"][0]["userId"]
    bought = {t["productId"] for t in documents["transactions"] if t["userId"] == user}
    catalogue = [p["productId"] for p in documents["products"]]

    assert await queries.bought_among(user, catalogue) == bought
    assert await queries.bought_among(user, catalogue[:5]) == bought & set(catalogue[:5])
    assert await queries.bought_among("nobody", catalogue) == set()


@pytest.mark.parametrize(("seconds", "expected"), [(60, "Old name"), (0, "New name")])
async def test_product_details_are_reused_for_the_cache_time(
    mongo_server: SecantusDBServer, tmp_path: Any, seconds: float, expected: str
) -> None:
    client: AsyncMongoClient = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    db = client[f"catalogue_{seconds}"]
    await db.products.insert_one({"productId": "p1", "name": "Old name", "price": 5, "stock": 2})
    data = RecommendQueries(
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
