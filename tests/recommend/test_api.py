import httpx
import pytest
from pymongo import AsyncMongoClient
from secantus import SecantusDBServer

from tests.factories import SEEDED_DB


async def _user_with_purchases(uri: str) -> tuple[str, set[str]]:
    client: AsyncMongoClient = AsyncMongoClient(uri)
    transactions = client[SEEDED_DB].transactions
    top = await (
        await transactions.aggregate(
            [{"$group": {"_id": "$userId", "n": {"$sum": 1}}}, {"$sort": {"n": -1}}, {"$limit": 1}]
        )
    ).to_list()
    user = top[0]["_id"]
    bought = set(await transactions.distinct("productId", {"userId": user}))
    await client.close()
    return user, bought


async def test_known_user_gets_named_products_not_bought(
    client: httpx.AsyncClient, mongo_server: SecantusDBServer
) -> None:
    user, bought = await _user_with_purchases(mongo_server.uri)

    response = await client.get(f"/api/v1/recommend/user/{user}", params={"num_recommendations": 5})

    assert response.status_code == 200
    body = response.json()
    assert body["strategy"] == "personalized"
    assert body["message"] == f"Recommendations for user {user} generated successfully."
    recommendations = body["recommendations"]
    assert len(recommendations) == 5
    assert all(r["productId"] and r["productName"] for r in recommendations)
    assert not {r["productId"] for r in recommendations} & bought
    scores = [r["score"] for r in recommendations]
    assert scores == sorted(scores, reverse=True)


async def test_unknown_user_gets_popular_products_in_order(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/recommend/user/no-such-user", params={"num_recommendations": 4}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["strategy"] == "popular"
    assert body["message"] == (
        "No personal recommendations for user no-such-user (unknown, or too few purchases); "
        "returning the most popular products they have not bought."
    )
    popularity = [r["score"] for r in body["recommendations"]]
    assert len(popularity) == 4
    assert popularity == sorted(popularity, reverse=True)


async def test_default_count_is_ten(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/recommend/user/no-such-user")

    assert len(response.json()["recommendations"]) == 10


@pytest.mark.parametrize("count", ["0", "51", "many"])
async def test_rejects_bad_count(client: httpx.AsyncClient, count: str) -> None:
    response = await client.get("/api/v1/recommend/user/u1", params={"num_recommendations": count})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("Query parameter 'num_recommendations': ")


async def test_status_reports_components(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/recommend/status")).json()

    assert body["is_trained"] is True
    assert body["model_type"] == "SVD"
    assert 2 <= body["n_components"] <= 50
    assert body["metrics"]["users"] > 0
