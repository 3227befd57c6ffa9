import logging
from pathlib import Path

import httpx
from loguru import logger
from secantus import SecantusDBServer

from app.logging import configure_logging, escape_controls
from tests.factories import make_settings, running


def _log_text(directory: Path) -> str:
    logger.complete()
    return "".join(p.read_text() for p in directory.glob("ai_service_*.log"))


def test_standard_library_and_uvicorn_logs_reach_the_file(tmp_path: Path) -> None:
    configure_logging(tmp_path)

    logging.getLogger("uvicorn.error").warning("uvicorn says hello")
    logging.getLogger("some.library").info("library says hello")

    text = _log_text(tmp_path)
    assert "uvicorn says hello" in text
    assert "library says hello" in text


def test_records_below_the_level_are_not_made(tmp_path: Path) -> None:
    configure_logging(tmp_path, "INFO")

    for name in ("uvicorn.error", "some.library"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG)
        assert logging.getLogger(name).isEnabledFor(logging.INFO)


async def test_one_line_per_request_with_its_id(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    settings = make_settings(mongo_server.uri, tmp_path, DATABASE_NAME="empty")
    async with running(settings) as client:
        response: httpx.Response = await client.get(
            "/api/v1/health/", headers={"X-Request-ID": "req-42"}
        )

    assert response.status_code == 200
    lines = [line for line in _log_text(settings.LOG_DIR).splitlines() if "req-42" in line]
    assert len(lines) == 1
    assert "GET /api/v1/health/ 200 " in lines[0]
    assert "ms request_id=req-42" in lines[0]


def test_control_characters_are_escaped() -> None:
    assert escape_controls("a\nb\r\tc\x1b[31md\x00\x7f\x85\u2028é") == (
        "a\\nb\\r\\tc\\x1b[31md\\x00\\x7f\\x85\\u2028é"
    )


async def test_a_request_cannot_forge_log_lines(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    """The path arrives percent-decoded: a vertical tab and U+2028 break lines in many viewers,
    ESC starts a terminal escape. (Starlette's URL drops newlines and tabs from the path.)"""
    settings = make_settings(mongo_server.uri, tmp_path, DATABASE_NAME="empty")
    async with running(settings) as client:
        response = await client.get(
            "/api/v1/x%0B2026-01-01 INFO forged%E2%80%A8y%1B[31m",
            headers={"X-Request-ID": "req-43"},
        )

    assert response.status_code == 404
    text = _log_text(settings.LOG_DIR)
    lines = [line for line in text.splitlines() if "req-43" in line]
    assert len(lines) == 1
    assert "GET /api/v1/x\\x0b2026-01-01 INFO forged\\u2028y\\x1b[31m 404 " in lines[0]
    assert not {"\x1b", "\x0b", "\u2028"} & set(text)
