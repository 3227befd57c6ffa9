"""The recommender's pipelines against SecantusDB, compared with plain Python over the same
documents (regenerated from the same seed)."""

import asyncio
import math
from collections import defaultdict
from datetime import timedelta

import numpy as np
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.recommend.pairs import PairColumns
from app.recommend.purchases import Purchases
from app.recommend.queries import RecommendQueries
from tests.factories import NON_SALES, NOW


@pytest.fixture
def queries(db: AsyncDatabase, settings: Settings) -> RecommendQueries:
    return RecommendQueries(db, settings)


async def test_purchases_are_grouped_per_pair_before_and_after_the_cutoff(
    queries: RecommendQueries, documents: dict
) -> None:
    start, cutoff = NOW - timedelta(days=30), NOW - timedelta(days=10)
    nan = math.nan
    expected: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, nan, nan, 0])
    for t in documents["transactions"]:
        when, pair = t["transactionDate"], expected[(t["userId"], t["productId"])]
        pair[4] = max(pair[4], float(when < cutoff))
        if start <= when < NOW and t["status"] not in NON_SALES:
            pair[0] += t["quantity"]
            pair[2] = max(pair[2], when.timestamp()) if pair[2] == pair[2] else when.timestamp()
            if when < cutoff:
                pair[1] += t["quantity"]
                pair[3] = max(pair[3], when.timestamp()) if pair[3] == pair[3] else when.timestamp()
    sold = {product for (_, product), pair in expected.items() if pair[2] == pair[2]}
    expected = {key: pair for key, pair in expected.items() if key[1] in sold}

    purchases = await queries.purchases(start, cutoff, NOW)

    found = {
        (str(purchases.user_ids[u]), str(purchases.item_ids[p])): [*numbers]
        for u, p, *numbers in zip(
            purchases.users,
            purchases.items,
            purchases.quantity,
            purchases.quantity_before,
            purchases.last,
            purchases.last_before,
            purchases.bought_before,
            strict=True,
        )
    }
    assert set(purchases.item_ids) == sold
    assert found.keys() == expected.keys()
    assert any(math.isnan(pair[2]) for pair in expected.values())  # pairs only to leave out
    for key, pair in expected.items():
        np.testing.assert_array_equal(found[key], pair)
    assert purchases.cutoff == cutoff.timestamp()


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


async def test_transactions_since_a_date_are_pairs_with_their_last_date(
    queries: RecommendQueries, documents: dict
) -> None:
    start = NOW - timedelta(days=3)
    expected: dict[tuple[str, str], object] = {}
    for t in documents["transactions"]:
        if t["transactionDate"] >= start:  # whatever the status
            pair = (t["userId"], t["productId"])
            expected[pair] = max(expected.get(pair, t["transactionDate"]), t["transactionDate"])

    found = await queries.purchases_since(start)

    assert {(u, p): last for u, p, last in found} == expected


async def test_the_pairs_become_the_training_input_off_the_event_loop(
    queries: RecommendQueries, monkeypatch: pytest.MonkeyPatch
) -> None:
    loops: list[bool] = []
    convert = PairColumns.purchases

    def watched(pairs: PairColumns, cutoff: float, end: float) -> Purchases:
        try:
            asyncio.get_running_loop()
            loops.append(True)
        except RuntimeError:  # no loop runs in this thread
            loops.append(False)
        return convert(pairs, cutoff, end)

    monkeypatch.setattr(PairColumns, "purchases", watched)

    purchases = await queries.purchases(NOW - timedelta(days=30), NOW - timedelta(days=10), NOW)

    assert loops == [False]
    assert len(purchases.users) > 0
