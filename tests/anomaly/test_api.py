import httpx
import pytest

NORMAL = [{"totalAmount": 20.0 + 9 * i, "quantity": 1 + i % 4} for i in range(30)]
ABSURD = {"totalAmount": 2_500_000.0, "quantity": 400}


async def test_detect_flags_an_absurd_transaction(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/anomaly/detect",
        json={"data_points": [*NORMAL, ABSURD], "features": ["totalAmount", "quantity"]},
    )

    assert response.status_code == 200
    results = response.json()
    assert len(results) == len(NORMAL) + 1
    assert results[-1]["is_anomaly"] is True
    assert results[-1]["anomaly_score"] < min(r["anomaly_score"] for r in results[:-1])
    assert results[-1]["data"] == ABSURD
    assert results[-1]["details"] == {"totalAmount": 2_500_000.0, "quantity": 400.0}
    assert sum(r["is_anomaly"] for r in results[:-1]) < len(NORMAL) / 2


async def test_detect_accepts_total_price_alias_and_default_features(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/anomaly/detect", json={"data_points": [{"totalPrice": 40, "quantity": 2}]}
    )

    assert response.status_code == 200
    assert response.json()[0]["details"] == {"totalAmount": 40.0, "quantity": 2.0}


async def test_empty_batch_is_an_empty_list(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/anomaly/detect", json={"data_points": []})

    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"data_points": [{"totalAmount": "abc", "quantity": 1}]},
            "data_points[0].totalAmount must be a finite number, got 'abc'.",
        ),
        (
            {"data_points": [{"totalAmount": 3, "quantity": 1}, {"quantity": 1}]},
            "data_points[1] has no value for 'totalAmount' (or totalPrice).",
        ),
        (
            {"data_points": [{"totalAmount": 3, "quantity": True}]},
            "data_points[0].quantity must be a finite number, got True.",
        ),
        (
            {"data_points": [{"totalAmount": 10**400, "quantity": 1}]},
            f"data_points[0].totalAmount must be a finite number, got {str(10**400)[:37]}....",
        ),
        (
            {"data_points": [{"totalAmount": [1, 2], "quantity": 1}]},
            "data_points[0].totalAmount must be a finite number, got [1, 2].",
        ),
        (
            {"data_points": [{"totalAmount": 30, "quantity": -5}]},
            "data_points[0].quantity must not be negative, got -5.",
        ),
        (
            {"data_points": [{"totalAmount": 5, "quantity": 1}], "features": ["nosuch"]},
            "Unknown feature(s) 'nosuch': the anomaly model scores totalAmount, quantity "
            "(totalPrice is accepted for totalAmount).",
        ),
        (
            {"data_points": [{"totalAmount": 5, "quantity": 1}], "features": ["quantity"]},
            "features must name every feature the model scores: totalAmount, quantity.",
        ),
        (
            {"data_points": "many"},
            "Field 'data_points': Input should be a valid list (got 'many').",
        ),
        ({}, "Field 'data_points': Field required."),
    ],
)
async def test_detect_rejects_bad_points(
    client: httpx.AsyncClient, body: dict, detail: str
) -> None:
    response = await client.post("/api/v1/anomaly/detect", json=body)

    assert response.status_code == 422
    assert response.json()["detail"] == detail


async def test_malformed_json_is_a_readable_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/anomaly/detect",
        content="{not json",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith("The request body is not valid JSON")


async def test_status_reports_contamination(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/anomaly/status")).json()

    assert body["is_trained"] is True
    assert body["model_type"] == "IsolationForest"
    assert body["contamination_threshold"] == 0.05
    assert body["metrics"]["training_rows"] == body["rows_used"]


async def test_oversized_batch_is_refused_with_the_limit(client: httpx.AsyncClient) -> None:
    points = [{"totalAmount": 1, "quantity": 1}] * 10_001

    response = await client.post("/api/v1/anomaly/detect", json={"data_points": points})

    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        "Field 'data_points': List should have at most 10000 items after validation, not 10001"
    )
    assert len(response.json()["detail"]) < 200


async def test_text_that_is_not_unicode_is_a_422(client: httpx.AsyncClient) -> None:
    body = '{"data_points": [{"totalAmount": 1, "quantity": 1, "note": "\\ud800"}]}'

    response = await client.post(
        "/api/v1/anomaly/detect", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert "not valid Unicode" in response.json()["detail"]


async def test_only_the_features_of_each_point_are_read(client: httpx.AsyncClient) -> None:
    points = [{"totalAmount": 10 + i, "quantity": 1, f"extra_{i}": i} for i in range(2_000)]

    response = await client.post("/api/v1/anomaly/detect", json={"data_points": points})

    assert response.status_code == 200
    assert len(response.json()) == 2_000
    assert response.json()[7]["data"] == points[7]
