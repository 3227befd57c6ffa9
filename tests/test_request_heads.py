"""The server as `python -m app.server` runs it, against clients that hold half-sent request
heads: past REQUEST_HEAD_TIMEOUT_SECONDS the server closes their connections itself, so they
cannot keep AI_SERVICE_MAX_CONCURRENCY reached; while it is reached, the 503 is the service's
JSON sentence."""

import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import served_app

pytestmark = pytest.mark.slow  # starts the server

LIMIT = 10
HEAD_TIMEOUT = 1.5
PARTIAL_HEAD = b"GET /api/v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    # No database is needed: liveness answers without one.
    with served_app(
        "mongodb://127.0.0.1:1",
        "heads",
        Path(tempfile.mkdtemp()),
        AI_SERVICE_WORKERS="1",
        AI_SERVICE_MAX_CONCURRENCY=str(LIMIT),
        REQUEST_HEAD_TIMEOUT_SECONDS=str(HEAD_TIMEOUT),
    ) as base:
        yield base


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (raises on a timeout)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_held_half_sent_heads_are_closed_and_liveness_answers_again(served: str) -> None:
    held = [_connect(served) for _ in range(2 * LIMIT)]
    try:
        for sock in held:
            sock.sendall(PARTIAL_HEAD)
        time.sleep(0.3)
        started = time.monotonic()
        full = httpx.get(f"{served}/api/v1/health/live")
        answers = [_read_until_closed(sock) for sock in held]
        closed_after = time.monotonic() - started
    finally:
        for sock in held:
            sock.close()
    live = httpx.get(f"{served}/api/v1/health/live")

    assert full.status_code == 503
    assert full.headers["content-type"] == "application/json"
    assert "AI_SERVICE_MAX_CONCURRENCY" in full.json()["detail"]
    assert closed_after < HEAD_TIMEOUT + 2
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers)
    assert b"REQUEST_HEAD_TIMEOUT_SECONDS" in answers[0]
    assert live.status_code == 200


def test_a_head_sent_a_byte_at_a_time_is_cut_at_the_deadline_not_after_each_byte(
    served: str,
) -> None:
    sock = _connect(served)
    started = time.monotonic()
    closed = False
    with sock:
        for byte in PARTIAL_HEAD * 4:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.1)  # well under the timeout between bytes
            if time.monotonic() - started > HEAD_TIMEOUT + 3:
                break
        answer = b"" if closed else _read_until_closed(sock)

    assert closed or answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < HEAD_TIMEOUT + 3


def test_a_silent_connection_is_closed_without_an_answer(served: str) -> None:
    with _connect(served) as sock:
        started = time.monotonic()
        answer = _read_until_closed(sock)

    assert answer == b""
    assert HEAD_TIMEOUT - 0.2 < time.monotonic() - started < HEAD_TIMEOUT + 2


def test_the_next_head_on_a_kept_alive_connection_has_the_deadline_too(served: str) -> None:
    request = b"GET /api/v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with _connect(served) as sock:
        sock.sendall(request)
        time.sleep(HEAD_TIMEOUT + 0.5)  # idle between requests: the keep-alive timeout's time
        sock.sendall(request)
        time.sleep(0.5)
        sock.sendall(PARTIAL_HEAD)
        answers = _read_until_closed(sock)

    assert answers.count(b"HTTP/1.1 200 ") == 2
    assert b"HTTP/1.1 408 " in answers
