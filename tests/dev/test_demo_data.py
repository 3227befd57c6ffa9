"""Demo data must be reproducible, schema-true and carry the patterns the models learn from."""

import asyncio
import dataclasses
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pymongo import AsyncMongoClient
from secantus import SecantusDBServer

from app.dev.demo.cli import main
from app.dev.demo.generator import generate
from app.dev.demo.mongo import database_is_empty, write_demo_data
from app.dev.demo.products import CATEGORIES, generate_products
from app.dev.demo.spec import DemoDataSpec
from app.dev.demo.transactions import (
    PAYMENT_METHODS,
    STATUSES,
    is_anomalous,
    iter_transaction_batches,
)
from app.dev.demo.users import generate_users

END = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday midnight: whole calendar days
SMALL = DemoDataSpec(days=30, transactions=2_000, users=100, products=50, end=END)
MEDIUM = DemoDataSpec(days=56, transactions=20_000, users=300, products=120, end=END)

Data = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def medium() -> Data:
    """One medium data set shared by the read-only statistical tests."""
    return generate(MEDIUM)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SecantusDBServer]:
    """A throw-away MongoDB wire-protocol server storing under tmp_path."""
    srv = SecantusDBServer(port=0, storage_path=str(tmp_path / "db"))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _prices(products: list[dict[str, Any]]) -> dict[str, float]:
    return {p["productId"]: p["price"] for p in products}


def _is_uuid4(value: str) -> bool:
    parsed = uuid.UUID(value)
    return parsed.version == 4 and str(parsed) == value


def test_exact_count_in_bounded_batches() -> None:
    rng = np.random.default_rng(SMALL.seed)
    products, users = generate_products(SMALL, rng), generate_users(SMALL, rng)
    batches = list(iter_transaction_batches(SMALL, products, users, rng, batch_size=300))
    assert all(0 < len(b) <= 300 for b in batches)
    assert sum(len(b) for b in batches) == SMALL.transactions
    assert len(generate(SMALL)[2]) == SMALL.transactions
    assert generate(DemoDataSpec(transactions=0, users=5, products=5, end=END))[2] == []


def test_same_seed_same_data_in_fresh_dicts() -> None:
    first, second = generate(SMALL), generate(SMALL)
    assert first == second
    assert first[2][0] is not second[2][0]
    first[2][0]["shippingAddress"]["city"] = "Changed"
    first[2][0]["_id"] = "added by insert_many"
    assert generate(SMALL) == second


def test_different_seed_different_data() -> None:
    products, _, transactions = generate(SMALL)
    other = generate(dataclasses.replace(SMALL, seed=SMALL.seed + 1))
    assert {p["productId"] for p in products}.isdisjoint(p["productId"] for p in other[0])
    assert [t["totalPrice"] for t in transactions] != [t["totalPrice"] for t in other[2]]


def test_batch_size_does_not_change_the_data() -> None:
    def transactions(batch_size: int) -> list[dict[str, Any]]:
        rng = np.random.default_rng(7)
        products, users = generate_products(SMALL, rng), generate_users(SMALL, rng)
        batches = iter_transaction_batches(SMALL, products, users, rng, batch_size)
        return [t for batch in batches for t in batch]

    assert transactions(1) == transactions(999) == transactions(50_000)


def test_schema(medium: Data) -> None:
    products, users, transactions = medium
    for p in products:
        assert set(p) == {
            "productId",
            "name",
            "category",
            "price",
            "stock",
            "description",
            "imageUrl",
            "addedDate",
            "lastUpdated",
        }
        assert _is_uuid4(p["productId"])
        assert p["name"]
        assert p["description"]
        assert p["category"] in CATEGORIES
        assert isinstance(p["price"], float)
        assert 10 <= p["price"] <= 2500
        assert round(p["price"], 2) == p["price"]
        assert isinstance(p["stock"], int)
        assert 0 <= p["stock"] <= 1000
        assert p["addedDate"].tzinfo is not None
        assert p["addedDate"] <= p["lastUpdated"] < END
    assert set(CATEGORIES) == {p["category"] for p in products}
    assert len({p["productId"] for p in products}) == len(products)
    for u in users:
        assert set(u) == {
            "userId",
            "username",
            "email",
            "registrationDate",
            "lastLogin",
            "address",
            "createdAt",
            "updatedAt",
        }
        assert _is_uuid4(u["userId"])
        assert "@" in u["email"]
        assert set(u["address"]) == {"street", "city", "country", "zip"}
        assert u["registrationDate"] < END - timedelta(days=MEDIUM.days) <= u["lastLogin"] < END
    assert len({u["username"] for u in users}) == len(users)
    for t in transactions[:2_000]:
        assert set(t) == {
            "transactionId",
            "userId",
            "productId",
            "quantity",
            "totalPrice",
            "transactionDate",
            "status",
            "paymentMethod",
            "shippingAddress",
            "createdAt",
        }
        assert _is_uuid4(t["transactionId"])
        assert isinstance(t["quantity"], int)
        assert isinstance(t["totalPrice"], float)
        assert t["paymentMethod"] in PAYMENT_METHODS
        assert set(t["shippingAddress"]) == {"street", "city", "country", "zip"}
    assert len({t["transactionId"] for t in transactions}) == len(transactions)


def test_references_exist(medium: Data) -> None:
    products, users, transactions = medium
    product_ids, user_ids = {p["productId"] for p in products}, {u["userId"] for u in users}
    assert all(t["productId"] in product_ids for t in transactions)
    assert all(t["userId"] in user_ids for t in transactions)


def test_total_price_is_price_times_quantity_when_normal(medium: Data) -> None:
    products, _, transactions = medium
    prices = _prices(products)
    normal = [t for t in transactions if not is_anomalous(t, prices[t["productId"]])]
    assert len(normal) > 0.95 * len(transactions)
    for t in normal:
        assert 1 <= t["quantity"] <= 5
        assert t["totalPrice"] == pytest.approx(prices[t["productId"]] * t["quantity"], abs=0.006)


def test_anomaly_share_and_shape(medium: Data) -> None:
    products, _, transactions = medium
    prices = _prices(products)
    anomalies = [t for t in transactions if is_anomalous(t, prices[t["productId"]])]
    assert len(anomalies) == round(MEDIUM.transactions * MEDIUM.anomaly_share)
    for t in anomalies:
        quantity, price = t["quantity"], prices[t["productId"]]
        absurd = 20 <= quantity <= 60
        inflated = 10 * price * quantity - 0.01 <= t["totalPrice"] <= 50 * price * quantity + 0.01
        assert absurd or inflated
        assert t["status"] in ("failed", "returned")  # stopped or sent back: never sales
    kinds = Counter(
        (t["quantity"] > 5, t["totalPrice"] > 5 * prices[t["productId"]] * t["quantity"])
        for t in anomalies
    )
    assert len(kinds) == 3  # quantity only, price only, both
    none = generate(dataclasses.replace(SMALL, anomaly_share=0.0))
    assert not any(is_anomalous(t, _prices(none[0])[t["productId"]]) for t in none[2])


def test_dates_within_period_for_any_end() -> None:
    end = datetime(2024, 7, 9, 15, 42, 7, 123456, tzinfo=timezone(timedelta(hours=2)))
    spec = DemoDataSpec(days=10, transactions=3_000, users=50, products=30, end=end)
    dates = [t["transactionDate"] for t in generate(spec)[2]]
    assert all(end - timedelta(days=10) <= d < end for d in dates)
    assert all(d.tzinfo is not None and d.utcoffset() == timedelta(0) for d in dates)
    assert all(d.microsecond % 1000 == 0 for d in dates)  # BSON keeps milliseconds
    assert dates == sorted(dates)
    assert max(dates) > end - timedelta(days=1)
    assert min(dates) < end - timedelta(days=9)
    assert len({d.hour for d in dates}) == 24

    before = datetime.now(UTC)
    latest = max(t["transactionDate"] for t in generate(dataclasses.replace(SMALL, end=None))[2])
    assert before - timedelta(days=1) < latest < datetime.now(UTC)


def test_status_and_payment_mix(medium: Data) -> None:
    share = Counter(t["status"] for t in medium[2])
    n = len(medium[2])
    assert set(share) == set(STATUSES)
    assert 0.85 < share["completed"] / n < 0.91
    assert 0.035 < share["pending"] / n < 0.065
    assert 0.025 < share["failed"] / n < 0.055
    assert 0.015 < share["returned"] / n < 0.045
    assert set(t["paymentMethod"] for t in medium[2]) == set(PAYMENT_METHODS)


def test_weekly_seasonality_and_upward_trend(medium: Data) -> None:
    products, _, transactions = medium
    prices = _prices(products)
    count: Counter[Any] = Counter()
    revenue: Counter[Any] = Counter()
    for t in transactions:
        day = t["transactionDate"].date()
        count[day] += 1
        if not is_anomalous(t, prices[t["productId"]]):
            revenue[day] += t["totalPrice"]
    days = sorted(count)
    assert len(days) == MEDIUM.days

    def weekend_lift(series: Counter[Any]) -> float:
        weekend = [series[d] for d in days if d.weekday() >= 5]
        weekday = [series[d] for d in days if d.weekday() < 5]
        return float(np.mean(weekend) / np.mean(weekday))

    assert weekend_lift(count) > 1.2
    assert weekend_lift(revenue) > 1.1
    half = len(days) // 2
    assert sum(count[d] for d in days[half:]) > 1.1 * sum(count[d] for d in days[:half])
    assert sum(revenue[d] for d in days[half:]) > sum(revenue[d] for d in days[:half])


def test_preferences_popularity_and_activity_are_realistic() -> None:
    products, users, transactions = generate(DemoDataSpec(end=END))  # the defaults
    category = {p["productId"]: p["category"] for p in products}
    bought: defaultdict[str, set[str]] = defaultdict(set)
    per_category: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for t in transactions:
        bought[t["userId"]].add(t["productId"])
        per_category[t["userId"]][category[t["productId"]]] += 1
    assert np.mean([len(bought[u["userId"]]) >= 5 for u in users]) > 0.8
    top3 = [sum(c for _, c in cats.most_common(3)) / cats.total() for cats in per_category.values()]
    assert np.mean(top3) > 0.8
    activity = sorted((sum(c.values()) for c in per_category.values()), reverse=True)
    assert activity[0] > 5 * np.median(activity)
    sales = sorted(Counter(t["productId"] for t in transactions).values(), reverse=True)
    assert sum(sales[: len(products) // 10]) > 0.35 * len(transactions)


def test_spec_is_validated() -> None:
    with pytest.raises(ValueError, match="end must be timezone-aware"):
        DemoDataSpec(end=datetime(2025, 1, 1))  # naive
    with pytest.raises(ValueError, match="days must be >= 1"):
        DemoDataSpec(days=0)
    with pytest.raises(ValueError, match=r"anomaly_share must be within \[0, 1\]"):
        DemoDataSpec(anomaly_share=1.5)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_write_demo_data_inserts_what_generate_returns(server: SecantusDBServer) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri, tz_aware=True)
    try:
        db = client["demo_test"]
        assert await database_is_empty(db)
        counts = await write_demo_data(db, SMALL, batch_size=700)
        assert counts == {"products": 50, "users": 100, "transactions": 2_000}
        for name, expected in counts.items():
            assert await db[name].count_documents({}) == expected
        assert not await database_is_empty(db)
        _, _, transactions = generate(SMALL)
        stored = await db["transactions"].find_one(
            {"transactionId": transactions[-1]["transactionId"]}, {"_id": 0}
        )
        assert stored == transactions[-1]
    finally:
        await client.close()


@pytest.mark.slow
def test_cli_refuses_non_empty_database_unless_drop(server: SecantusDBServer) -> None:
    async def count() -> int:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri)
        try:
            return await client["cli_test"]["transactions"].count_documents({})
        finally:
            await client.close()

    args = ["--mongodb-url", server.uri, "--database", "cli_test", "--days", "14"]
    args += ["--transactions", "500", "--users", "40", "--products", "20", "--seed", "3"]
    main(args)
    assert asyncio.run(count()) == 500
    with pytest.raises(SystemExit) as refused:
        main(args)
    assert refused.value.code == 1
    main([*args, "--drop"])

    assert asyncio.run(count()) == 500
