"""The `current` pointer of each model on this host's disk, and the signed record of the
service's last rollback: which version is live, and whether the service put it there. Apart
from the versions themselves, which `ArtifactStore` writes and checks.

    <root>/<model>/current        the live version's id
    <root>/<model>/rollback.json  the service's last rollback, signed
"""

import json
import os
import tempfile
from pathlib import Path

from app.core.store.refusals import ArtifactInvalid
from app.core.store.safe_files import TEMPORARY, open_unlinked, write_synced
from app.core.store.signing import SIGNATURE, is_signed_by, signature
from app.core.store.version_ids import VERSION_PATTERN

CURRENT = "current"
# The service's last rollback of a model, signed: a `current` naming an older version than the
# newest is expected only with one (see `unexpected`).
ROLLBACK = "rollback.json"


class CurrentPointer:
    """Reads and replaces the `current` pointer and the rollback record of every model under
    one directory; which versions exist is the caller's to say."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self._key = key

    def write(self, name: str, version_id: str) -> None:
        """Points `current` at a version (checked saved by the caller): replaced whole, or, on
        any failure, left as it was (its temporary removed)."""
        pointer = self.directory / name / CURRENT
        descriptor, temporary = tempfile.mkstemp(
            dir=pointer.parent, prefix=f".{CURRENT}.", suffix=TEMPORARY
        )
        os.close(descriptor)
        try:
            write_synced(Path(temporary), version_id.encode())
            os.replace(temporary, pointer)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def record_rollback(self, name: str, version_id: str, newest: str | None) -> str:
        """Records, signed, that the service rolls the model back to that version while the
        newest version is `newest` (before `current` moves); returns the record's text (a
        GridFS store hands it to the other hosts, see `keep_rollback`)."""
        record = {"version": version_id, "newest": newest}
        text = json.dumps({**record, SIGNATURE: signature(record, self._key)})
        self.keep_rollback(name, text)
        return text

    def keep_rollback(self, name: str, text: str) -> None:
        """Writes a rollback record (made here or by another host) atomically."""
        directory = self.directory / name
        directory.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{ROLLBACK}.", suffix=TEMPORARY
        )
        os.close(descriptor)
        write_synced(Path(temporary), text.encode())
        os.replace(temporary, directory / ROLLBACK)

    def unexpected(self, name: str, newest: str | None) -> str | None:
        """The version `current` names when the service did not put it there: neither the
        newest version (a training's) nor the one of a rollback recorded by the service since
        that version was made. None when the pointer is as expected (or there is none)."""
        current = self.current(name)
        if current is None or newest is None or current == newest:
            return None
        try:
            with os.fdopen(open_unlinked(self.directory / name / ROLLBACK, ROLLBACK), "rb") as f:
                record = json.loads(f.read())
        except (OSError, ValueError, ArtifactInvalid):
            return current
        expected = (
            isinstance(record, dict)
            and is_signed_by(record, self._key)
            and record.get("version") == current
            and record.get("newest") == newest
        )
        return None if expected else current

    def stamp(self, name: str) -> tuple[int, int] | None:
        """When `current` last changed, and its inode (a rename makes a new one): cheap enough
        to call before every request."""
        try:
            found = os.lstat(self.directory / name / CURRENT)
        except OSError:
            return None
        return found.st_mtime_ns, found.st_ino

    def current(self, name: str) -> str | None:
        """The live version's id, or None when the model was never saved or the pointer is
        refused (a symbolic link, or no version id: see `pointed`)."""
        try:
            return self.pointed(name)
        except ArtifactInvalid:
            return None

    def pointed(self, name: str) -> str | None:
        """The version id `current` holds, None when there is no pointer; `ArtifactInvalid`
        when the pointer is a symbolic link (never followed) or holds no version id (its
        content is not repeated: it may be another file's)."""
        pointer = self.directory / name / CURRENT
        try:
            descriptor = open_unlinked(pointer, f"the {CURRENT} pointer")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ArtifactInvalid(
                f"the {CURRENT} pointer is unreadable ({type(exc).__name__})"
            ) from None
        with os.fdopen(descriptor, "rb") as f:
            content = f.read(64).decode(errors="replace").strip()
        if not content:
            return None
        if not VERSION_PATTERN.match(content):
            raise ArtifactInvalid(f"the {CURRENT} pointer holds no version id")
        return content
