"""How far the registry trusts the store's `current` pointer: a refused live version falls back
to the newest valid one, and a pointer moved to another version without a recorded rollback is
reported. A registry over a disk store and a stand-in model spec: nothing trains."""

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from loguru import logger

from app.core.http.model_sync import routed_model
from app.core.lifecycle.registry import ModelRegistry
from app.core.store import ArtifactStore, LocalModelStore, signing_key
from tests.factories import offline_settings, running, wait_until

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


async def test_a_pointer_moved_by_a_writer_of_the_store_is_a_warning_a_rollback_is_not(
    tmp_path: Path, logs: list[str]
) -> None:
    files = _saved(tmp_path, V1, V2)
    store = LocalModelStore(files)
    registry = _registry(store)
    await _load(registry)
    registry._loaded = True
    await registry.sync()
    trained = registry.unexpected_pointer("forecast")

    files.set_current("forecast", V1)  # someone who can write MODEL_SAVE_PATH
    await registry.sync()
    moved = registry.unexpected_pointer("forecast")
    warned = [line for line in logs if line.startswith("WARNING") and "no rollback" in line]
    files.set_current("forecast", V2)
    await registry.sync()
    logs.clear()
    await store.set_current("forecast", V1)  # the service's rollback (versions.roll_back)
    await registry.sync()

    assert trained is None
    assert moved == V1
    assert registry.live_or_none("forecast") == [V1]  # served all the same
    assert len(warned) == 1
    assert V1 in warned[0]
    assert registry.unexpected_pointer("forecast") is None
    assert not [line for line in logs if line.startswith("WARNING")]


async def test_an_unexpected_pointer_is_shown_in_the_models_listing(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path)  # no database: nothing trains
    key = signing_key(None, settings.MODEL_SIGNING_KEY_FILE)
    files = ArtifactStore(settings.MODEL_SAVE_PATH, key)
    for version in (V1, V2):
        files.save("anomaly", [version], {"model_type": "ecod", "version": version})
    files.set_current("anomaly", V1)

    listed: dict[str, dict[str, Any]] = {}
    async with running(settings) as client:

        async def judged() -> bool:
            models = (await client.get("/api/v1/models")).json()["models"]
            listed.update({m["name"]: m for m in models})
            return listed["anomaly"]["unexpected_pointer"] is not None

        await wait_until(judged, seconds=10, what="the pointer judged")

    assert listed["anomaly"]["unexpected_pointer"] == V1
    assert listed["forecast"]["unexpected_pointer"] is None


async def test_a_pointer_replaced_by_a_link_while_serving_is_refused_and_never_read(
    tmp_path: Path, logs: list[str]
) -> None:
    files = _saved(tmp_path / "models", V1)
    registry = _registry(LocalModelStore(files))
    await _load(registry)
    registry._loaded = True
    await registry.sync()
    secret = tmp_path / "secret"
    secret.write_text(V1.replace("a", "f") + " and a secret line")
    pointer = tmp_path / "models" / "forecast" / "current"
    pointer.unlink()
    pointer.symlink_to(secret)

    await registry.sync()

    assert registry.live_or_none("forecast") == [V1]
    refused = [line for line in logs if "pointer in the store is refused" in line]
    assert len(refused) == 1
    assert refused[0].startswith("WARNING")
    assert not [line for line in logs if "secret" in line or "ffffff" in line]


async def test_a_models_routes_sync_that_model_alone(tmp_path: Path) -> None:
    files = _saved(tmp_path, V1, V2)
    registry = _registry(LocalModelStore(files))
    await _load(registry)
    registry._loaded = True
    files.set_current("forecast", V1)  # another process rolled the forecast back

    await registry.sync(routed_model("/api/v1/anomaly/detect"))
    before = registry.live_or_none("forecast")
    await registry.sync(routed_model("/api/v1/forecast/predict"))

    assert before == [V2]
    assert registry.live_or_none("forecast") == [V1]
    assert routed_model("/ui") is None  # every model synced
