"""How far the registry trusts the store's `current` pointer: a refused live version falls back
to the newest valid one, and a pointer moved to another version without a recorded rollback is
reported. A registry over a disk store and a stand-in model spec: nothing trains."""

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from loguru import logger

from app.core.lifecycle.registry import ModelRegistry
from app.core.store import ArtifactStore, LocalModelStore

KEY = b"test-signing-key-of-the-registry"
TYPE = "LinearRegression"
V1, V2, V3 = "20261123T000000Z-aaaaaa", "20261124T000000Z-bbbbbb", "20261125T000000Z-cccccc"


class _Spec:
    name = "forecast"
    model_type = TYPE

    async def prepare_served(self, model: object, metadata: dict[str, Any]) -> None:
        pass


def _registry(store: LocalModelStore) -> ModelRegistry:
    parts: Any = SimpleNamespace(
        settings=None,
        database=SimpleNamespace(on_connect=lambda _: None),
        store=store,
        worker=None,
        jobs=None,
        leases=None,
        clock=None,
    )
    registry = ModelRegistry(parts)
    registry.register(_Spec())  # type: ignore[arg-type]
    return registry


def _saved(directory: Path, *versions: str) -> ArtifactStore:
    files = ArtifactStore(directory, KEY)
    for version in versions:
        files.save("forecast", [version], {"model_type": TYPE, "version": version})
    return files


@pytest.fixture
def logs() -> Iterator[list[str]]:
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(str(m)), level="INFO", format="{level} {message}")
    yield lines
    logger.remove(handler)


async def _load(registry: ModelRegistry) -> None:
    await registry._load(registry._slots["forecast"])


async def test_a_tampered_live_version_falls_back_to_the_newest_valid_one(
    tmp_path: Path, logs: list[str]
) -> None:
    files = _saved(tmp_path, V1, V2, V3)
    (tmp_path / "forecast" / V2 / "model.joblib").write_bytes(b"altered")
    (tmp_path / "forecast" / V3 / "model.joblib").write_bytes(b"altered")
    registry = _registry(LocalModelStore(files))

    await _load(registry)

    assert registry.live_or_none("forecast") == [V1]
    assert registry.describe("forecast").version == V1
    assert files.current("forecast") == V3  # the pointer is left for a training to move
    assert any(
        line.startswith("WARNING") and "newest valid saved version " + V1 in line for line in logs
    )


async def test_with_no_valid_version_left_the_model_is_retrained(
    tmp_path: Path, logs: list[str]
) -> None:
    files = _saved(tmp_path, V1)
    (tmp_path / "forecast" / V1 / "model.joblib").write_bytes(b"altered")
    registry = _registry(LocalModelStore(files))

    await _load(registry)

    assert registry.live_or_none("forecast") is None
    assert any("it will be retrained" in line for line in logs)
