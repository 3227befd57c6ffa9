from datetime import timedelta

import httpx
import pytest

from tests.factories import NOW

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
    assert results[-1]["severity"] == "high"
    assert {r["feature"] for r in results[-1]["explanation"]} >= {"amount", "quantity_ratio"}
    assert sum(r["is_anomaly"] for r in results[:-1]) < len(NORMAL) / 2
    assert {r["expected_flag_rate"] for r in results} == {0.02}


async def test_detect_accepts_total_price_alias_and_default_features(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/anomaly/detect", json={"data_points": [{"totalPrice": 40, "quantity": 2}]}
    )

    assert response.status_code == 200
    assert response.json()[0]["details"] == {"totalAmount": 40.0, "quantity": 2.0}


async def test_answers_name_the_version_of_the_model_that_served_them(
    client: httpx.AsyncClient,
) -> None:
    status = await client.get("/api/v1/anomaly/status")
    detect = await client.post("/api/v1/anomaly/detect", json={"data_points": NORMAL[:2]})
    recent = await client.get("/api/v1/anomaly/recent", params={"days": 2, "limit": 1})

    version = status.json()["version"]
    assert version
    assert status.headers["X-Model-Version"] == version
    assert detect.headers["X-Model-Version"] == version
    assert isinstance(detect.json(), list)  # the backend reads the whole body: header only
    assert recent.headers["X-Model-Version"] == recent.json()["model_version"] == version


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


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"data_points": "\xff"}', "The request body is not UTF-8 text"),
        (b"[" * 100_000, "The request body is JSON nested too deeply to be read"),
    ],
)
async def test_a_body_that_cannot_be_read_is_a_readable_422(
    client: httpx.AsyncClient, body: bytes, detail: str
) -> None:
    """FastAPI answers these with a 400 saying 'There was an error parsing the body' (found by
    schema fuzzing): undocumented, and nothing a person can act on."""
    response = await client.post(
        "/api/v1/anomaly/detect", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)


async def test_status_reports_features_threshold_and_severity_cut_offs(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/api/v1/anomaly/status")).json()

    assert body["is_trained"] is True
    assert body["model_type"] == "ECOD"
    assert body["contamination_threshold"] == body["expected_flag_rate"] == 0.02
    assert body["flag_rate_note"].startswith("About 2 in 100 transactions are flagged; in the last")
    assert body["metrics"]["training_rows"] == body["rows_used"] == body["training_sample_size"]
    assert body["features"] == ["log_amount", "log_unit_price", "price_ratio", "quantity_ratio"]
    assert body["share_flagged_in_training"] == pytest.approx(0.02, abs=0.005)
    cut_offs = body["severity_cutoffs"]
    assert body["threshold"] <= cut_offs["medium"] <= cut_offs["high"]


async def test_oversized_batch_is_refused_with_the_limit(client: httpx.AsyncClient) -> None:
    points = [{"totalAmount": 1, "quantity": 1}] * 10_001

    response = await client.post("/api/v1/anomaly/detect", json={"data_points": points})

    assert response.status_code == 413
    assert response.json()["detail"] == (
        "data_points holds 10,001 points; at most 10,000 (MAX_DETECT_POINTS) are scored per "
        "request. Split the batch."
    )


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


async def test_a_price_wrong_for_its_product_is_flagged_and_explained(
    client: httpx.AsyncClient, documents: dict
) -> None:
    product = documents["products"][0]
    price = product["price"]
    point = {"totalAmount": round(price / 100, 2), "quantity": 1, "productId": product["productId"]}

    response = await client.post("/api/v1/anomaly/detect", json={"data_points": [point]})

    result = response.json()[0]
    assert result["is_anomaly"] is True
    reason = result["explanation"][0]
    assert reason["feature"] == "price_ratio"
    assert reason["usual_low"] > point["totalAmount"]
    assert "× (1/" in reason["sentence"]
    assert "this product's usual" in reason["sentence"]


async def test_recent_scores_the_stored_transactions_of_the_window(
    client: httpx.AsyncClient, documents: dict
) -> None:
    start = (NOW - timedelta(days=6)).replace(hour=0, minute=0, second=0, microsecond=0)
    stored = [t for t in documents["transactions"] if t["transactionDate"] >= start]

    response = await client.get("/api/v1/anomaly/recent", params={"days": 7, "limit": 5})

    assert response.status_code == 200
    body = response.json()
    assert body["scored"] == len(stored)
    assert [d["date"] for d in body["per_day"]] == [
        (start + timedelta(days=d)).date().isoformat() for d in range(7)
    ]
    assert sum(d["transactions"] for d in body["per_day"]) == len(stored)
    assert sum(d["flagged"] for d in body["per_day"]) == body["flagged"] > 0
    assert body["flag_rate"] == pytest.approx(body["flagged"] / body["scored"])
    assert body["flag_rate_note"].startswith(
        "About 2 in 100 transactions are flagged; these 7 days"
    )
    worst = body["most_anomalous"]
    assert len(worst) == 5
    scores = [w["anomaly_score"] for w in worst]
    assert scores == sorted(scores)
    assert worst[0]["explanation"]
    by_id = {t["transactionId"]: t for t in stored}
    assert worst[0]["totalAmount"] == by_id[worst[0]["transactionId"]]["totalPrice"]


async def test_recent_refuses_a_bad_window(client: httpx.AsyncClient) -> None:
    none = await client.get("/api/v1/anomaly/recent", params={"days": 0})
    too_many = await client.get("/api/v1/anomaly/recent", params={"days": 91})

    assert none.status_code == too_many.status_code == 422
    assert none.json()["detail"] == (
        "Query parameter 'days': Input should be greater than or equal to 1 (got '0')."
    )
    assert too_many.json()["detail"] == (
        "Query parameter 'days': at most 90 days (ANOMALY_RECENT_MAX_DAYS) can be scored, got 91."
    )


async def test_values_at_a_floats_limits_still_get_numbers(
    client: httpx.AsyncClient, documents: dict
) -> None:
    product = documents["products"][0]["productId"]
    points = [
        {"totalAmount": 1e308, "quantity": 0.1},
        {"totalAmount": 1e-322, "quantity": 1, "productId": product},
        {"totalAmount": 0, "quantity": 0, "productId": product},
    ]

    response = await client.post("/api/v1/anomaly/detect", json={"data_points": points})

    assert response.status_code == 200
    for result in response.json():
        assert isinstance(result["anomaly_score"], float)
        assert all(isinstance(r["value"], float) for r in result["explanation"])
    assert response.json()[0]["is_anomaly"] is True


async def test_a_huge_list_of_unknown_features_gets_a_short_answer(
    client: httpx.AsyncClient,
) -> None:
    features = [f"unknown_{i}" for i in range(200_000)]

    response = await client.post(
        "/api/v1/anomaly/detect", json={"data_points": NORMAL[:1], "features": features}
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        "Field 'features': List should have at most 16 items after validation, not 200000"
    )
    assert len(response.text) < 1000


async def test_a_long_feature_name_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/anomaly/detect", json={"data_points": NORMAL[:1], "features": ["x" * 65]}
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        "Field 'features[0]': String should have at most 64 characters"
    )


async def test_a_point_with_too_many_keys_is_a_422(client: httpx.AsyncClient) -> None:
    point = {"totalAmount": 1, "quantity": 1, **{f"k{i}": i for i in range(99)}}

    response = await client.post("/api/v1/anomaly/detect", json={"data_points": [NORMAL[0], point]})

    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        "Field 'data_points': Value error, point 1 has 101 keys; a point may have at most 100 "
        "(one transaction's fields)"
    )
