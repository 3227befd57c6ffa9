"""Model versions on disk: each training's artifact written atomically with signed metadata, and
a pointer to the live version of each model.

    <root>/<model>/<version>/model.joblib   the fitted model (a pickle)
    <root>/<model>/<version>/metadata.json  trained at, data window, rows, metrics, versions of
                                            the service and libraries, SHA-256, signature
    <root>/<model>/current                  the live version's id (see `pointer`)
    <root>/<model>/rollback.json            the service's last rollback, signed (`pointer`)

A version directory is written under a temporary name and renamed whole, then `current` is
replaced: a crash at any point leaves the previous version live. Before unpickling, the signature
(HMAC, see `signing`), the format, model type, library versions and SHA-256 are checked; an
artifact that fails any check is refused. Messages name versions and files, never the paths.
Symbolic links are never followed: a `current` pointer, a version directory or a file that is
one is refused, and nothing of its target is read (nor logged).
"""

import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from loguru import logger

from app.config import APP_VERSION
from app.core.store.pointer import CurrentPointer
from app.core.store.protocol import Loaded
from app.core.store.refusals import ArtifactInvalid, VersionUnknown
from app.core.store.safe_files import TEMPORARY, open_unlinked, write_synced
from app.core.store.signing import SIGNATURE, is_signed_by, signature
from app.core.store.version_ids import VERSION_PATTERN, in_the_future, refuse_future

# 2: the capability layout, ECOD and the backtested forecast; 3: forecasts per category, the
# recommender's candidates; 4: a version per training, signed metadata; 5: forecasts keep their
# recent sales
FORMAT_VERSION = 5
_PICKLE_DEPENDENCIES = ("numpy", "pandas", "scipy", "scikit-learn")
ARTIFACT, METADATA = "model.joblib", "metadata.json"
# Temporary entries older than this are leftovers of a crash; younger ones may be another
# process's save under way.
SWEEP_AFTER_SECONDS = 900


def library_versions() -> dict[str, str]:
    """Versions a pickled model depends on; any difference means retraining. Read from package
    metadata, so that importing this module does not import the ML stack."""
    return {"python": platform.python_version()} | {
        name: version(name) for name in _PICKLE_DEPENDENCIES
    }


class ArtifactStore:
    """Saves, lists and loads the versions of every model under one directory."""

    def __init__(self, directory: Path, key: bytes, keep_versions: int = 5) -> None:
        self.directory = directory
        self._key = key
        self._keep = keep_versions
        self.pointer = CurrentPointer(directory, key)

    def save(self, name: str, model: object, metadata: dict[str, Any]) -> dict[str, Any]:
        """Writes a new version and makes it current; prunes the oldest beyond `keep_versions`.
        Returns the metadata as saved (with checksum, versions and signature).
        A failure before `current` is replaced raises and leaves it where it was; once it is
        replaced the save has happened, and a failed prune is only logged."""
        staging, sealed = self.stage(name, model, metadata)
        self.publish(name, staging, sealed["version"])
        self.set_current(name, sealed["version"])
        try:
            self.prune(name, keep=sealed["version"])
        except OSError as exc:
            logger.warning("Old {} model versions not pruned: {}", name, exc.strerror or exc)
        return sealed

    def stage(
        self, name: str, model: object, metadata: dict[str, Any]
    ) -> tuple[Path, dict[str, Any]]:
        """Writes the model, pickled straight to its file, and its metadata completed with the
        format, the service's and libraries' versions, the file's SHA-256 and the signature,
        into a new staging directory; returns it (see `publish`) and the metadata."""
        import joblib  # here, not at import: the server answers before the ML stack loads

        staging = self.new_staging(name)
        try:
            with (staging / ARTIFACT).open("wb") as f:
                joblib.dump(model, f)
                f.flush()
                os.fsync(f.fileno())
            with (staging / ARTIFACT).open("rb") as f:
                checksum = hashlib.file_digest(f, "sha256").hexdigest()
            sealed = {
                **metadata,
                "format_version": FORMAT_VERSION,
                "service_version": APP_VERSION,
                "libraries": library_versions(),
                "sha256": checksum,
            }
            sealed[SIGNATURE] = signature(sealed, self._key)
            write_synced(staging / METADATA, json.dumps(sealed, indent=2).encode())
        except BaseException:
            self.discard(staging)
            raise
        return staging, sealed

    def new_staging(self, name: str) -> Path:
        """An empty directory to write a version in, under a temporary name (a leftover of a
        crash is swept)."""
        model_directory = self.directory / name
        model_directory.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=model_directory, prefix=".", suffix=TEMPORARY))

    def publish(self, name: str, staging: Path, version_id: str) -> None:
        """Renames a staging directory into place as that version (not made current). A
        version already there is kept as it is: versions never change, and another process may
        have written it first."""
        if not VERSION_PATTERN.match(version_id):
            self.discard(staging)
            raise VersionUnknown(version_id)
        target = self.directory / name / version_id
        try:
            os.rename(staging, target)
        except OSError:
            self.discard(staging)
            if not (target / METADATA).exists():
                raise

    def remove(self, name: str, version_id: str) -> None:
        """Deletes a saved version from this disk (a copy refused by its checks), never the
        live one; a link in its place is removed, not followed."""
        if not VERSION_PATTERN.match(version_id) or version_id == self.current(name):
            return
        directory = self.directory / name / version_id
        if directory.is_symlink():
            directory.unlink(missing_ok=True)
        else:
            shutil.rmtree(directory, ignore_errors=True)
        logger.info("Removed the refused copy of {} model version {}", name, version_id)

    @staticmethod
    def discard(staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def verify(self, name: str, version_id: str) -> str | None:
        """Why a saved version must not be loaded here (signature, format, libraries, checksum),
        or None; the model type is checked at load. Nothing is unpickled."""
        try:
            directory = self._version_directory(name, version_id)
            refuse_future(version_id)
            metadata = self._signed_metadata(directory, version_id)
            problem = _mismatch(metadata, None)
            if problem:
                return problem
            with os.fdopen(
                open_unlinked(directory / ARTIFACT, f"version {version_id}: {ARTIFACT}"), "rb"
            ) as f:
                checksum = hashlib.file_digest(f, "sha256").hexdigest()
        except (ArtifactInvalid, VersionUnknown, OSError) as exc:
            return str(exc) or type(exc).__name__
        if checksum != metadata.get("sha256"):
            return f"{ARTIFACT} does not match its checksum (truncated or altered)"
        return None

    def has(self, name: str, version_id: str) -> bool:
        """Whether that version is saved here."""
        try:
            self._version_directory(name, version_id)
        except VersionUnknown:
            return False
        except ArtifactInvalid:  # there, and refused when checked
            return True
        return True

    def set_current(self, name: str, version_id: str) -> None:
        """Points `current` at a saved version (after a save, or to roll back): replaced whole,
        or, on any failure, left as it was (its temporary removed)."""
        self._version_directory(name, version_id)
        self.pointer.write(name, version_id)

    def record_rollback(self, name: str, version_id: str) -> str:
        """Records, signed, that the service rolls the model back to that version while the
        newest version is the one it names (see `CurrentPointer.record_rollback`)."""
        return self.pointer.record_rollback(name, version_id, self.newest(name))

    def keep_rollback(self, name: str, text: str) -> None:
        """Writes a rollback record (made here or by another host) atomically."""
        self.pointer.keep_rollback(name, text)

    def newest(self, name: str) -> str | None:
        """The newest signed version not dated in the future: the last succeeded training's."""
        for directory in self._version_directories(name):
            if in_the_future(directory.name):
                continue
            try:
                with os.fdopen(open_unlinked(directory / METADATA, METADATA), "rb") as f:
                    metadata = json.loads(f.read())
            except (OSError, ValueError, ArtifactInvalid):
                continue
            if _signed_as(metadata, directory.name, self._key):
                return directory.name
        return None

    def unexpected_pointer(self, name: str) -> str | None:
        """The version `current` names when the service did not put it there (see
        `CurrentPointer.unexpected`); None when it is as expected."""
        return self.pointer.unexpected(name, self.newest(name))

    def pointer_stamp(self, name: str) -> tuple[int, int] | None:
        """When `current` last changed, and its inode: cheap, before every request."""
        return self.pointer.stamp(name)

    def current(self, name: str) -> str | None:
        """The live version's id, or None (never saved, or the pointer refused)."""
        return self.pointer.current(name)

    def pointed(self, name: str) -> str | None:
        """The version id `current` holds, None without a pointer; `ArtifactInvalid` when the
        pointer is refused (see `CurrentPointer.pointed`)."""
        return self.pointer.pointed(name)

    def load_current(self, name: str, model_type: str) -> Loaded | None:
        """The live version's model and metadata; None when never saved; `ArtifactInvalid`
        when it must not be loaded."""
        current = self.pointed(name)
        if current is None:
            return None
        return self.load(name, current, model_type)

    def load(self, name: str, version_id: str, model_type: str) -> Loaded:
        """One version's model and metadata, once every check has passed."""
        directory = self._version_directory(name, version_id)
        refuse_future(version_id)
        metadata = self._signed_metadata(directory, version_id)
        problem = _mismatch(metadata, model_type)
        if problem:
            raise ArtifactInvalid(f"version {version_id}: {problem}")
        try:
            with os.fdopen(
                open_unlinked(directory / ARTIFACT, f"version {version_id}: {ARTIFACT}"), "rb"
            ) as f:
                data = f.read()
        except OSError as exc:
            raise ArtifactInvalid(
                f"version {version_id}: {ARTIFACT} is unreadable ({type(exc).__name__})"
            ) from exc
        # The bytes checked are the bytes unpickled: a file swapped after the check is not read.
        if hashlib.sha256(data).hexdigest() != metadata.get("sha256"):
            raise ArtifactInvalid(
                f"version {version_id}: {ARTIFACT} does not match its checksum (truncated or "
                "altered)"
            )
        import joblib

        try:
            return joblib.load(io.BytesIO(data)), metadata
        except Exception as exc:
            raise ArtifactInvalid(
                f"version {version_id}: {ARTIFACT} cannot be loaded ({type(exc).__name__})"
            ) from exc

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every saved version's metadata, newest first, each with `signed`: whether its
        signature holds (the artifact itself is checked only when loaded)."""
        found = []
        for directory in self._version_directories(name):
            try:
                with os.fdopen(open_unlinked(directory / METADATA, METADATA), "rb") as f:
                    metadata = json.loads(f.read())
            except (OSError, ValueError, ArtifactInvalid):
                metadata = {}
            found.append(self.listed(directory.name, metadata))
        return found

    def listed(self, version_id: str, metadata: object) -> dict[str, Any]:
        """A saved version as the listings show it: its metadata, its id, and `signed`."""
        known = metadata if isinstance(metadata, dict) else {}
        return {**known, "version": version_id, "signed": _signed_as(known, version_id, self._key)}

    def sweep(self, older_than_seconds: float = SWEEP_AFTER_SECONDS) -> int:
        """Removes what a crash left half-written (temporary files and version directories)
        and returns how many; entries younger than `older_than_seconds` are left alone."""
        removed = 0
        oldest = time.time() - older_than_seconds
        for leftover in self.directory.glob(f"*/.*{TEMPORARY}"):
            try:
                if leftover.stat().st_mtime > oldest:
                    continue
            except FileNotFoundError:  # a sibling's sweep or save got there first
                continue
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            removed += 1
        return removed

    def _signed_metadata(self, directory: Path, version_id: str) -> dict[str, Any]:
        try:
            with os.fdopen(
                open_unlinked(directory / METADATA, f"version {version_id}: {METADATA}"), "rb"
            ) as f:
                metadata: dict[str, Any] = json.loads(f.read())
        except (OSError, ValueError) as exc:
            raise ArtifactInvalid(
                f"version {version_id}: {METADATA} is unreadable ({type(exc).__name__})"
            ) from exc
        if not _signed_as(metadata, version_id, self._key):
            raise ArtifactInvalid(
                f"version {version_id}: the signature is missing or does not match (tampered, "
                "or saved with another MODEL_SIGNING_KEY)"
            )
        return metadata

    def _version_directory(self, name: str, version_id: str) -> Path:
        """The directory of a saved version; `VersionUnknown` for anything else (an id that is
        not a version's never reaches the file system)."""
        directory = self.directory / name / version_id
        if not VERSION_PATTERN.match(version_id):
            raise VersionUnknown(version_id)
        if directory.is_symlink():
            raise ArtifactInvalid(
                f"version {version_id}: its directory is a symbolic link, refused (not followed)"
            )
        if not (directory / METADATA).exists():
            raise VersionUnknown(version_id)
        return directory

    def _version_directories(self, name: str) -> list[Path]:
        directory = self.directory / name
        if not directory.is_dir():
            return []
        found = [
            p
            for p in directory.iterdir()
            if VERSION_PATTERN.match(p.name) and p.is_dir() and not p.is_symlink()
        ]
        return sorted(found, key=lambda p: p.name, reverse=True)

    def prune(self, name: str, keep: str) -> None:
        """Deletes the oldest versions beyond `keep_versions`, never the live one. A version
        dated in the future holds no keep-slot: it is deleted (unless live)."""
        current = self.current(name) or keep
        found = self._version_directories(name)
        future = [p for p in found if in_the_future(p.name)]
        past = [p for p in found if not in_the_future(p.name)]
        for old in [*future, *past[self._keep :]]:
            if old.name != current:
                shutil.rmtree(old, ignore_errors=True)
                logger.info("Pruned {} model version {}", name, old.name)


def _signed_as(metadata: object, version_id: str, key: bytes) -> bool:
    """Signed with the key, and for that version (a signed version copied under another id is
    not that version)."""
    return (
        isinstance(metadata, dict)
        and metadata.get("version") == version_id
        and is_signed_by(metadata, key)
    )


def _mismatch(metadata: dict[str, Any], model_type: str | None) -> str | None:
    if metadata.get("format_version") != FORMAT_VERSION:
        return f"format version {metadata.get('format_version')} is not {FORMAT_VERSION}"
    if model_type is not None and metadata.get("model_type") != model_type:
        return f"saved model type {metadata.get('model_type')} is not the configured {model_type}"
    if metadata.get("libraries") != library_versions():
        return f"saved with libraries {metadata.get('libraries')}, running {library_versions()}"
    return None
