"""Request bodies over MAX_REQUEST_BODY_BYTES are refused before parsing, whether announced or
streamed, and so are those that arrive too slowly; bodies that are not JSON get a sentence
saying what to send."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests.factories import offline_settings, running

DETECT = "/api/v1/anomaly/detect"
LIMIT = 2048
TOO_LARGE = (
    "The request body is larger than 2,048 bytes (MAX_REQUEST_BODY_BYTES); send a smaller one, "
    "e.g. split a batch of points into several requests."
)
JSON_HEADERS = {"Content-Type": "application/json"}


async def _chunks(total: int, size: int = 512) -> AsyncIterator[bytes]:
    for _ in range(total // size):
        yield b" " * size


async def test_an_announced_body_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    """Not JSON at all: the 413 comes before any parsing."""
    async with running(offline_settings(tmp_path, MAX_REQUEST_BODY_BYTES=LIMIT)) as client:
        response = await client.post(DETECT, content=b"{" * (LIMIT + 1), headers=JSON_HEADERS)

    assert response.status_code == 413
    assert response.json() == {"detail": TOO_LARGE}


async def test_a_streamed_body_is_refused_once_past_the_limit(tmp_path: Path) -> None:
    async with running(offline_settings(tmp_path, MAX_REQUEST_BODY_BYTES=LIMIT)) as client:
        response = await client.post(DETECT, content=_chunks(LIMIT * 4), headers=JSON_HEADERS)

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == {"detail": TOO_LARGE}


async def test_a_body_within_the_limit_is_served(tmp_path: Path) -> None:
    async with running(offline_settings(tmp_path, MAX_REQUEST_BODY_BYTES=LIMIT)) as client:
        streamed = await client.post(
            DETECT, content=_chunks(LIMIT - 512, size=256), headers=JSON_HEADERS
        )
        empty = await client.post(DETECT, json={"data_points": []})

    assert streamed.status_code == 422  # blank text: read whole, then found not to be JSON
    assert empty.status_code == 200


async def _trickle(pause: float) -> AsyncIterator[bytes]:
    yield b'{"data_points": '
    await asyncio.sleep(pause)
    yield b"[]}"


async def test_a_body_that_arrives_too_slowly_is_refused(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path, REQUEST_BODY_TIMEOUT_SECONDS=0.3)
    async with running(settings) as client:
        slow = await client.post(DETECT, content=_trickle(2), headers=JSON_HEADERS)
        prompt = await client.post(DETECT, content=_trickle(0.01), headers=JSON_HEADERS)

    assert slow.status_code == 408
    assert slow.json() == {
        "detail": "The request body did not arrive within 0.3 s (REQUEST_BODY_TIMEOUT_SECONDS); "
        "send it whole at once, or check the connection."
    }
    assert prompt.status_code == 200


async def test_a_body_that_is_not_utf8_says_what_to_send(tmp_path: Path) -> None:
    async with running(offline_settings(tmp_path)) as client:
        response = await client.post(
            DETECT, content=b'{"data_points": ["\xff"]}', headers=JSON_HEADERS
        )

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "The request body is not UTF-8 text, so it cannot be read as JSON; send a JSON object, "
        "encoded as UTF-8, with the header `Content-Type: application/json`."
    )


async def test_a_body_sent_as_text_says_which_content_type_to_send(tmp_path: Path) -> None:
    async with running(offline_settings(tmp_path)) as client:
        plain = await client.post(
            DETECT, content=b'{"data_points": []}', headers={"Content-Type": "text/plain"}
        )
        untyped = await client.post(DETECT, content=b'{"data_points": []}')

    assert plain.status_code == untyped.status_code == 422
    assert plain.json()["detail"] == (
        "The request body was not read as JSON (Content-Type sent: `Content-Type: text/plain`); "
        "send a JSON object, encoded as UTF-8, with the header `Content-Type: application/json`."
    )
    assert "(Content-Type sent: none)" in untyped.json()["detail"]


async def test_many_problems_give_a_short_answer(tmp_path: Path) -> None:
    """50,000 invalid points: the first five named, the count of the others, 20 listed."""
    body = {"data_points": ["not a point"] * 50_000}
    async with running(offline_settings(tmp_path)) as client:
        response: httpx.Response = await client.post(DETECT, json=body)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith(
        "Field 'data_points[0]': Input should be a valid dictionary (got 'not a point')."
    )
    assert detail.endswith(" And 49,995 more problems.")
    assert len(detail) < 600
    assert len(response.json()["errors"]) == 20
