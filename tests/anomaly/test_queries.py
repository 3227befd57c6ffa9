"""The anomaly model's pipelines against SecantusDB, compared with the seeded documents."""

import statistics
from collections import defaultdict
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from app.anomaly.queries import AnomalyQueries
from app.config import Settings
from tests.factories import NOW


async def test_training_rows_are_the_windows_most_recent_and_the_same_each_time(
    db: AsyncDatabase, settings: Settings, documents: dict
) -> None:
    start = NOW - timedelta(days=20)
    window = sorted(
        (t for t in documents["transactions"] if t["transactionDate"] >= start),
        key=lambda t: t["transactionDate"],
        reverse=True,
    )
    queries = AnomalyQueries(db, settings)

    sample = await queries.transaction_sample(start, size=200)

    assert len(sample) == 200
    assert [d["date"] for d in sample] == [t["transactionDate"] for t in window[:200]]
    assert {(d["amount"], d["quantity"], d["productId"]) for d in sample} <= {
        (t["totalPrice"], t["quantity"], t["productId"]) for t in window
    }
    assert await queries.transaction_sample(start, size=200) == sample


def _is_a_median(value: float, values: list[float]) -> bool:
    """`$median` with method approximate: one of the two middle values on small data."""
    middle = {statistics.median_low(values), statistics.median_high(values)}
    return any(abs(value - m) < 1e-9 for m in middle)


async def test_product_references_are_each_products_median_price_and_quantity(
    db: AsyncDatabase, settings: Settings, documents: dict
) -> None:
    start = NOW - timedelta(days=30)
    units: dict[str, list[float]] = defaultdict(list)
    quantities: dict[str, list[float]] = defaultdict(list)
    for t in documents["transactions"]:
        if t["transactionDate"] >= start and t["quantity"] > 0:
            units[t["productId"]].append(t["totalPrice"] / t["quantity"])
            quantities[t["productId"]].append(t["quantity"])

    references = await AnomalyQueries(db, settings).product_references(start)

    assert set(references) == set(units)
    prices_found = sum(_is_a_median(references[p][0], u) for p, u in units.items())
    quantities_found = sum(_is_a_median(references[p][1], q) for p, q in quantities.items())
    assert prices_found >= 0.9 * len(units)
    assert quantities_found >= 0.9 * len(units)
    for product, prices in units.items():
        assert min(prices) <= references[product][0] <= max(prices)


async def test_catalogue_prices_are_read_for_every_product(
    db: AsyncDatabase, settings: Settings, documents: dict
) -> None:
    prices = await AnomalyQueries(db, settings).catalogue_prices()

    assert prices == {p["productId"]: p["price"] for p in documents["products"]}
