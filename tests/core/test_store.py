import json
from pathlib import Path

import pytest

from app.core.store import ArtifactInvalid, ArtifactStore

META = {"model_type": "LinearRegression", "trained_at": "2026-11-25T00:00:00+00:00"}


def test_round_trip_keeps_model_and_metadata(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "models")
    saved = store.save("forecast", {"weights": [1, 2, 3]}, META)

    loaded = store.load("forecast", "LinearRegression")

    assert loaded is not None
    model, metadata = loaded
    assert model == {"weights": [1, 2, 3]}
    assert metadata == saved
    assert {"sha256", "libraries", "format_version"} <= set(metadata)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
        "forecast.joblib",
        "forecast.json",
    ]


def test_nothing_saved_is_none(tmp_path: Path) -> None:
    assert ArtifactStore(tmp_path).load("forecast", "LinearRegression") is None


def test_truncated_artifact_is_refused(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    store.save("forecast", list(range(1000)), META)
    data = (tmp_path / "forecast.joblib").read_bytes()
    (tmp_path / "forecast.joblib").write_bytes(data[: len(data) // 2])

    with pytest.raises(ArtifactInvalid, match="does not match its checksum"):
        store.load("forecast", "LinearRegression")


def test_other_model_type_is_refused(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    store.save("forecast", [1], META)

    with pytest.raises(ArtifactInvalid, match="not the configured RandomForestRegressor"):
        store.load("forecast", "RandomForestRegressor")


def test_other_library_versions_are_refused(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    store.save("forecast", [1], META)
    meta_path = tmp_path / "forecast.json"
    metadata = json.loads(meta_path.read_text())
    metadata["libraries"]["scikit-learn"] = "0.1"
    meta_path.write_text(json.dumps(metadata))

    with pytest.raises(ArtifactInvalid, match="saved with libraries"):
        store.load("forecast", "LinearRegression")


def test_missing_or_garbled_metadata_is_refused(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    store.save("forecast", [1], META)
    (tmp_path / "forecast.json").write_text("{half")

    with pytest.raises(ArtifactInvalid, match="unreadable"):
        store.load("forecast", "LinearRegression")
