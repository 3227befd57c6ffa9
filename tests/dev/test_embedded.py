from pathlib import Path

import pytest

from app.dev import embedded
from tests.factories import free_port

pytestmark = pytest.mark.slow  # a SecantusDB process


def test_embedded_server_starts_answers_and_stops(tmp_path: Path) -> None:
    process, url = embedded.start(tmp_path / "db", free_port(), tmp_path / "secantus.log")
    try:
        assert embedded.answers(url)
    finally:
        embedded.stop(process)

    assert not embedded.answers(url, timeout_ms=300)
    assert (tmp_path / "db").is_dir()
