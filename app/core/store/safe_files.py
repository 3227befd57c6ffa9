"""The store's low-level file operations: opening a file without following a symbolic link,
writing one durably (synced before it is renamed into place), and counting a pickle's size
without writing it. Apart so that the versions and the pointer write and read files alike."""

import os
from pathlib import Path

from app.core.store.refusals import ArtifactInvalid

# The suffix of an entry being written under a temporary name (swept once old: a crash's).
TEMPORARY = ".tmp"


def open_unlinked(path: Path, what: str) -> int:
    """A descriptor of a file that is no symbolic link (O_NOFOLLOW: a link swapped in after a
    check is not followed either); `ArtifactInvalid` naming `what` for a link, never what the
    link points to."""
    try:
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        if path.is_symlink():
            raise ArtifactInvalid(f"{what} is a symbolic link, refused (not followed)") from None
        raise


def write_synced(path: Path, content: bytes) -> None:
    with path.open("wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())


def pickled_size(model: object) -> int:
    """How many bytes the model's artifact takes, counted by pickling it to nowhere: what a
    save that ran out of space needed (CPU as one pickling, no memory held)."""
    import joblib

    sink = _CountingSink()
    joblib.dump(model, sink)
    return sink.written


class _CountingSink:
    """A file that keeps nothing and counts what is written to it."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> int:
        size = memoryview(data).nbytes
        self.written += size
        return size

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        pass
