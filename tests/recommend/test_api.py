"""Recommendation routes over an app of their own, on a small planted data set (user u prefers
category u % 3), with the filters refreshed every 0.2 s; and the backend's call on the seeded
demo data."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from secantus import SecantusDBServer

from tests.factories import (
    CATEGORIES,
    NOW,
    category_of,
    make_settings,
    taste_events,
    trained,
    wait_until,
)

pytestmark = pytest.mark.slow  # an app trained on the taste shop

TASTE_DB = "recommend_taste"
RECOMMEND = "/api/v1/recommend"


def _never_sold_to_u4() -> list[str]:
    """Two Toys (u4's taste) that u4 has no sale of in the window."""
    events = taste_events()
    bought = set(events[events["userId"] == "u4"]["productId"])
    return [p for p in (f"p{i}" for i in range(10, 20)) if p not in bought][:2]


async def _write_taste_shop(db: AsyncDatabase) -> None:
    """The taste events, plus for u4 a failed order of one product in the window and a sale of
    another long before it."""
    events = taste_events()
    failed, old = _never_sold_to_u4()
    await db.transactions.insert_many(
        [
            {"transactionId": "failed", "userId": "u4", "productId": failed, "quantity": 1,
             "totalPrice": 10.0, "transactionDate": NOW - timedelta(days=2), "status": "failed"},
            {"transactionId": "old", "userId": "u4", "productId": old, "quantity": 1,
             "totalPrice": 10.0, "transactionDate": NOW - timedelta(days=400),
             "status": "completed"},
        ]
    )  # fmt: skip
    await db.products.insert_many(
        [
            {"productId": f"p{i}", "name": f"Product {i}", "category": category_of(f"p{i}"),
             "price": 10.0 + i, "stock": 5}
            for i in range(30)
        ]
    )  # fmt: skip
    await db.transactions.insert_many(
        [
            {"transactionId": f"t{n}", "userId": row.userId, "productId": row.productId,
             "quantity": int(row.quantity), "totalPrice": 10.0 * row.quantity,
             "transactionDate": datetime.fromtimestamp(row.date, UTC), "status": "completed"}
            for n, row in enumerate(events.itertuples())
        ]
    )  # fmt: skip


@pytest.fixture(scope="module")
async def shop(mongo_server: SecantusDBServer) -> AsyncIterator[AsyncDatabase]:
    client: AsyncMongoClient = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    await client.drop_database(TASTE_DB)
    await _write_taste_shop(client[TASTE_DB])
    yield client[TASTE_DB]
    await client.drop_database(TASTE_DB)
    await client.close()


@pytest.fixture(scope="module")
async def taste(
    mongo_server: SecantusDBServer, shop: AsyncDatabase, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """An app trained on the taste shop, its filters refreshed every 0.2 s."""
    directory = Path(tmp_path_factory.mktemp("taste"))
    async with trained(make_settings(mongo_server.uri, directory, **_taste_settings(shop))) as http:
        yield http


def _taste_settings(shop: AsyncDatabase) -> dict[str, object]:
    return {
        "DATABASE_NAME": shop.name,
        "MIN_INTERACTIONS_FOR_RECOMMENDATION": 3,
        "RECOMMENDER_COMPONENTS": 8,
        "RECOMMEND_REFRESH_SECONDS": 0.2,
    }


async def _recommend(client: httpx.AsyncClient, user: str, **params: str | int) -> dict:
    response = await client.get(f"{RECOMMEND}/user/{user}", params=params)
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def _ids(body: dict) -> list[str]:
    return [r["productId"] for r in body["recommendations"]]


async def test_users_get_their_preferred_category_described_by_the_catalogue(
    taste: httpx.AsyncClient,
) -> None:
    preferred = 0
    for user in range(0, 60, 5):
        body = await _recommend(taste, f"u{user}", num_recommendations=3)
        assert body["strategy"] == "personalized"
        preferred += sum(r["category"] == CATEGORIES[user % 3] for r in body["recommendations"])
        for r in body["recommendations"]:
            number = int(r["productId"][1:])
            assert r["productName"] == f"Product {number}"
            assert (r["price"], r["stock"]) == (10.0 + number, 5)
    assert preferred / (12 * 3) > 0.75


async def test_bought_out_of_stock_and_missing_products_are_never_shown(
    taste: httpx.AsyncClient, shop: AsyncDatabase
) -> None:
    user = "u4"
    before = _ids(await _recommend(taste, user, num_recommendations=6))
    bought_in_window = {
        row["productId"] for row in await shop.transactions.find({"userId": user}).to_list()
    }
    sold_out, removed, bought_now = before[:3]
    await shop.products.update_one({"productId": sold_out}, {"$set": {"stock": 0}})
    removed_doc = await shop.products.find_one_and_delete({"productId": removed})
    await shop.transactions.insert_one(
        {"transactionId": "new", "userId": user, "productId": bought_now, "quantity": 1,
         "totalPrice": 10.0, "transactionDate": datetime.now(UTC), "status": "completed"}
    )  # fmt: skip

    async def refreshed() -> bool:
        filters = (await taste.get(f"{RECOMMEND}/status")).json()["filters"]
        return bool(filters["users_with_new_purchases"]) and filters["products_hidden"] == 2

    await wait_until(refreshed, 30, "the filters to read the changes")
    after = _ids(await _recommend(taste, user, num_recommendations=6))
    popular = _ids(await _recommend(taste, "nobody", num_recommendations=30))

    await shop.products.update_one({"productId": sold_out}, {"$set": {"stock": 5}})
    await shop.products.insert_one(removed_doc or {})
    await shop.transactions.delete_one({"transactionId": "new"})
    assert len(after) == 6
    assert not {sold_out, removed, bought_now} & set(after)
    assert not bought_in_window & set(after)
    assert not {sold_out, removed} & set(popular)
    assert len(popular) == 28


async def test_products_with_any_transaction_whatever_its_status_or_date_are_not_shown(
    taste: httpx.AsyncClient,
) -> None:
    shown = _ids(await _recommend(taste, "u4", num_recommendations=30))

    assert len(shown) >= 10
    assert not set(_never_sold_to_u4()) & set(shown)


async def test_category_filter_is_applied_in_any_case(taste: httpx.AsyncClient) -> None:
    body = await _recommend(taste, "u0", num_recommendations=5, category="toys")

    assert body["category"] == "toys"
    assert {r["category"] for r in body["recommendations"]} == {"Toys"}
    assert "in category toys" in body["message"]


async def test_an_unknown_category_is_a_404_listing_the_categories(
    taste: httpx.AsyncClient,
) -> None:
    response = await taste.get(f"{RECOMMEND}/user/u0", params={"category": "Garden"})

    assert response.status_code == 404
    assert response.json()["detail"] == (
        "No product the model recommends is in category 'Garden' (checked without regard to "
        "case). Categories: Books, Sports, Toys."
    )


async def test_unknown_users_get_popular_picks_by_recent_distinct_buyers(
    taste: httpx.AsyncClient,
) -> None:
    events = taste_events()
    recent = events[events["date"] >= NOW.timestamp() - 28 * 86_400]
    buyers = recent.groupby("productId")["userId"].nunique()

    body = await _recommend(taste, "someone-new", num_recommendations=4)

    assert body["strategy"] == "popular"
    assert "popular picks" in body["message"]
    assert [int(r["score"]) for r in body["recommendations"]] == sorted(buyers, reverse=True)[:4]
    assert [buyers[p] for p in _ids(body)] == sorted(buyers, reverse=True)[:4]


async def test_similar_products_come_from_the_same_taste(taste: httpx.AsyncClient) -> None:
    response = await taste.get(
        f"{RECOMMEND}/product/p12/similar", params={"num_recommendations": 4}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["product_id"] == "p12"
    ids = _ids(body)
    assert len(ids) == 4
    assert "p12" not in ids
    assert sum(category_of(p) == "Toys" for p in ids) >= 3


async def test_answers_name_the_version_of_the_model_that_served_them(
    taste: httpx.AsyncClient,
) -> None:
    status = await taste.get(f"{RECOMMEND}/status")
    answers = [
        await taste.get(f"{RECOMMEND}/user/u4"),
        await taste.get(f"{RECOMMEND}/user/someone-new"),
        await taste.get(f"{RECOMMEND}/product/p12/similar"),
    ]

    version = status.json()["version"]
    assert version
    assert status.headers["X-Model-Version"] == version
    for answer in answers:
        assert answer.headers["X-Model-Version"] == answer.json()["model_version"] == version


async def test_an_unknown_product_has_no_similar_products(taste: httpx.AsyncClient) -> None:
    response = await taste.get(f"{RECOMMEND}/product/p999/similar")

    assert response.status_code == 404
    assert response.json()["detail"].startswith(
        "Product 'p999' is not among the 30 products the recommendation model learnt from"
    )


async def test_status_shows_the_evaluation_and_the_filters(taste: httpx.AsyncClient) -> None:
    body = (await taste.get(f"{RECOMMEND}/status")).json()

    assert body["model_type"] == "auto"
    assert body["served"] in body["evaluation"]
    served, popular = body["evaluation"][body["served"]], body["evaluation"]["popular"]
    assert served["ndcg_at_10"] > popular["ndcg_at_10"]
    assert body["metrics"]["ndcg_at_10"] == served["ndcg_at_10"]
    assert body["filters"]["catalogue_read_at"] is not None
    assert body["filters"]["refresh_seconds"] == 0.2


async def test_the_backends_call_reads_message_and_named_recommendations(
    client: httpx.AsyncClient, db: AsyncDatabase
) -> None:
    top = await (
        await db.transactions.aggregate(
            [{"$group": {"_id": "$userId", "n": {"$sum": 1}}}, {"$sort": {"n": -1}}, {"$limit": 1}]
        )
    ).to_list()
    user = top[0]["_id"]

    response = await client.get(f"{RECOMMEND}/user/{user}?num_recommendations=5")

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == f"Recommendations for user {user} generated successfully."
    assert len(body["recommendations"]) == 5
    assert all(r["productId"] and r["productName"] for r in body["recommendations"])
    bought = set(await db.transactions.distinct("productId", {"userId": user,
                                                             "status": "completed"}))  # fmt: skip
    assert not set(_ids(body)) & bought


async def test_default_count_is_ten(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{RECOMMEND}/user/no-such-user")

    assert len(response.json()["recommendations"]) == 10


@pytest.mark.parametrize("count", ["0", "51", "many"])
async def test_rejects_bad_count(client: httpx.AsyncClient, count: str) -> None:
    response = await client.get(f"{RECOMMEND}/user/u1", params={"num_recommendations": count})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("Query parameter 'num_recommendations': ")
