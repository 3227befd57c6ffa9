"""Swagger UI and ReDoc work on a closed network: every asset comes from the service itself."""

import re

import httpx
import pytest


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_name_no_other_host(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)

    assert response.status_code == 200
    links = re.findall(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""", response.text)
    assert links, "the page loads no asset at all"
    assert [link for link in links if re.match(r"^(https?:)?//", link)] == []
    assert "cdn" not in response.text.lower()
    for link in links:
        asset = await client.get(link)
        assert asset.status_code == 200, link
        assert len(asset.content) > 1000, link


async def test_every_operation_has_a_stable_id_and_declared_examples(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()

    operations = [op for path in schema["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert "forecasting-predict" in ids
    assert "recommendation-recommend_for_user" in ids
    assert len(ids) == len(set(ids))
    states = schema["components"]["schemas"]["ForecastStatus"]["properties"]["state"]
    assert states["enum"] == ["not_trained", "loading", "training", "trained", "failed"]
    predict = schema["paths"]["/api/v1/forecast/predict"]["get"]["responses"]
    assert predict["503"]["content"]["application/json"]["example"]["detail"]
    detect = schema["paths"]["/api/v1/anomaly/detect"]["post"]["responses"]
    assert detect["200"]["headers"]["X-Model-Version"]["example"]


async def test_every_field_and_every_error_status_shows_an_example(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()

    fields_without = [
        f"{name}.{field}"
        for name, component in schema["components"]["schemas"].items()
        for field, spec in component.get("properties", {}).items()
        if "examples" not in spec and "example" not in spec
    ]
    errors_without = [
        f"{method.upper()} {path} {status}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status != "200" and "example" not in response["content"]["application/json"]
    ]
    assert fields_without == []
    assert errors_without == []
