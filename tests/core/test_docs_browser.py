"""Swagger UI renders every operation in a real browser that can reach nothing but the service
(as on a closed network). Needs Debian's chromium; skipped, saying how to install it, without."""

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from secantus import SecantusDBServer

from tests.factories import served_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ONLY_LOCALHOST = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
pytestmark = [
    pytest.mark.slow,  # a browser, and the service as a process
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium: `apt-get install chromium` to run the browser tests"
    ),
]


@pytest.fixture(scope="module")
def served(mongo_server: SecantusDBServer) -> Iterator[str]:
    """The service on a real port, as `python -m app.server` runs it."""
    with served_app(mongo_server.uri, "docs_only", Path(tempfile.mkdtemp())) as base:
        yield base


def rendered(url: str) -> str:
    """The page's DOM once its scripts have run, in headless chromium that resolves no host
    but 127.0.0.1."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", f"--host-resolver-rules={ONLY_LOCALHOST}",
                "--virtual-time-budget=15000", "--dump-dom", url,
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )  # fmt: skip
    return done.stdout.decode()


def test_swagger_ui_shows_every_operation_offline(served: str) -> None:
    operations = sum(
        len(methods) for methods in httpx.get(f"{served}/openapi.json").json()["paths"].values()
    )

    dom = rendered(f"{served}/docs")

    shown = re.findall(r'class="opblock opblock-(?:get|post|put|delete|patch)', dom)
    assert len(shown) == operations


def test_redoc_shows_every_operation_offline(served: str) -> None:
    paths = httpx.get(f"{served}/openapi.json").json()["paths"]

    dom = rendered(f"{served}/redoc")

    assert "/api/v1/anomaly/recent" in dom
    assert all(path.split("{")[0] in dom for path in paths)
