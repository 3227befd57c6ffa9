"""A request still under way when uvicorn's graceful shutdown times out: uvicorn cancels its
task, and the service answers 503 with a sentence instead of uvicorn's 500."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from tests.factories import free_port, offline_settings

# What uvicorn 0.54 cancels request tasks with (uvicorn/server.py, `shutdown`).
UVICORN_CANCEL = "Task cancelled, timeout graceful shutdown exceeded"


async def _cut(tmp_path: Path, message: str | None) -> tuple[list[dict[str, Any]], bool]:
    """A POST whose body never arrives, its task cancelled as uvicorn does; the messages sent
    and whether the task ended cancelled."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/anomaly/detect",
        "raw_path": b"/api/v1/anomaly/detect",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
        ],
        "client": ("127.0.0.1", 50_000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the body never comes
        raise AssertionError

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    app = create_app(offline_settings(tmp_path))
    async with LifespanManager(app) as manager:

        async def request() -> None:
            await manager.app(scope, receive, send)

        task = asyncio.create_task(request())
        await asyncio.sleep(0.3)
        task.cancel(msg=message)
        try:
            await task
        except asyncio.CancelledError:
            return sent, True
    return sent, False


async def test_a_request_cut_by_shutdown_answers_503_with_a_sentence(tmp_path: Path) -> None:
    sent, cancelled = await _cut(tmp_path, UVICORN_CANCEL)

    assert not cancelled  # uvicorn would answer 500 to a task that ends cancelled
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 503
    body = b"".join(m.get("body", b"") for m in sent[1:])
    detail = json.loads(body)["detail"]
    assert detail.startswith("The service is shutting down and stopped this request")
    assert "retry" in detail


@pytest.mark.parametrize("message", [None, "some other reason"])
async def test_any_other_cancellation_goes_on(tmp_path: Path, message: str | None) -> None:
    sent, cancelled = await _cut(tmp_path, message)

    assert cancelled
    assert sent == []


@pytest.mark.slow
def test_a_real_server_answers_503_to_a_request_cut_by_its_shutdown(tmp_path: Path) -> None:
    """`python -m app.server`, a POST whose body stops half-way, then SIGTERM: after
    AI_SERVICE_GRACEFUL_SHUTDOWN_SECONDS uvicorn cancels it, and the client reads a 503."""
    port = free_port()
    env = {
        **os.environ,
        "MONGODB_URL": f"mongodb://127.0.0.1:{free_port()}",
        "MONGODB_TIMEOUT_MS": "300",
        "AI_SERVICE_HOST": "127.0.0.1",
        "AI_SERVICE_PORT": str(port),
        "AI_SERVICE_GRACEFUL_SHUTDOWN_SECONDS": "1",
        "REQUEST_BODY_TIMEOUT_SECONDS": "30",
        "MODEL_SAVE_PATH": str(tmp_path / "models"),
        "LOG_DIR": str(tmp_path / "logs"),
        "MODEL_SIGNING_KEY_FILE": str(tmp_path / "secrets" / "signing.key"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app.server"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        with client:
            client.sendall(
                b"POST /api/v1/anomaly/detect HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            time.sleep(0.5)
            server.send_signal(signal.SIGTERM)
            client.settimeout(15)
            received = b""
            while chunk := client.recv(4096):  # until the server closes the connection
                received += chunk
            answer = received.decode()
        server.wait(15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    assert answer.startswith("HTTP/1.1 503")
    assert "The service is shutting down and stopped this request" in answer
