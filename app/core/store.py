"""Model artifacts on disk: written atomically with a metadata file, checked before loading.

An artifact is `<name>.joblib` plus `<name>.json` (trained at, data window, rows, metrics,
feature names, library versions, and the artifact's SHA-256). A file that is truncated, altered,
written by other library versions or for another model type is refused, never loaded.
"""

import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any, BinaryIO

# 2: the capability layout, ECOD and the backtested forecast; 3: forecasts per category, the
# recommender's candidates; 4: a version id per training; 5: forecasts keep their recent sales
FORMAT_VERSION = 5
_PICKLE_DEPENDENCIES = ("numpy", "pandas", "scipy", "scikit-learn")


def library_versions() -> dict[str, str]:
    """Versions a pickled model depends on; any difference means retraining. Read from package
    metadata, so that importing this module does not import the ML stack."""
    return {"python": platform.python_version()} | {
        name: version(name) for name in _PICKLE_DEPENDENCIES
    }


class ArtifactInvalid(Exception):
    """The artifact exists but must not be loaded; the message says why."""


class ArtifactStore:
    """Saves and loads the models under one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _paths(self, name: str) -> tuple[Path, Path]:
        return self.directory / f"{name}.joblib", self.directory / f"{name}.json"

    def save(self, name: str, model: object, metadata: dict[str, Any]) -> dict[str, Any]:
        """Writes the model, then its metadata, each to a temporary file renamed into place."""
        self.directory.mkdir(parents=True, exist_ok=True)
        artifact, meta_path = self._paths(name)
        import joblib  # here, not at import: the server answers before the ML stack loads

        digest = _write_atomically(artifact, lambda f: joblib.dump(model, f))
        full = {
            **metadata,
            "format_version": FORMAT_VERSION,
            "libraries": library_versions(),
            "sha256": digest,
        }
        _write_atomically(meta_path, lambda f: f.write(json.dumps(full, indent=2).encode()))
        return full

    def load(self, name: str, model_type: str) -> tuple[Any, dict[str, Any]] | None:
        """The model and its metadata; None when never saved; `ArtifactInvalid` when unusable."""
        artifact, meta_path = self._paths(name)
        if not artifact.exists() and not meta_path.exists():
            return None
        try:
            metadata = json.loads(meta_path.read_text())
        except (OSError, ValueError) as exc:
            raise ArtifactInvalid(f"metadata {meta_path} is unreadable: {exc}") from exc
        problem = _mismatch(metadata, model_type)
        if problem:
            raise ArtifactInvalid(problem)
        if _sha256(artifact) != metadata.get("sha256"):
            raise ArtifactInvalid(f"{artifact} does not match its checksum (truncated or altered)")
        import joblib

        try:
            return joblib.load(artifact), metadata
        except Exception as exc:
            raise ArtifactInvalid(f"{artifact} cannot be loaded: {exc}") from exc


def _mismatch(metadata: dict[str, Any], model_type: str) -> str | None:
    if metadata.get("format_version") != FORMAT_VERSION:
        return f"format version {metadata.get('format_version')} is not {FORMAT_VERSION}"
    if metadata.get("model_type") != model_type:
        return f"saved model type {metadata.get('model_type')} is not the configured {model_type}"
    if metadata.get("libraries") != library_versions():
        return f"saved with libraries {metadata.get('libraries')}, running {library_versions()}"
    return None


def _sha256(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


def _write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> str:
    """Writes through a temporary file in the same directory, fsyncs, renames; returns SHA-256."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        digest = _sha256(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest or ""
