"""Saved model versions: signed artifacts on this host's disk (`artifacts`, `signing`) behind
one `ModelStore` interface, kept on disk (`local`) or in MongoDB GridFS (`gridfs`)."""

from app.core.store.artifacts import (
    ArtifactInvalid,
    ArtifactStore,
    VersionUnknown,
    new_version,
    pickled_size,
)
from app.core.store.gridfs import GridFSModelStore
from app.core.store.local import LocalModelStore
from app.core.store.protocol import ModelStore
from app.core.store.signing import signing_key

__all__ = [
    "ArtifactInvalid",
    "ArtifactStore",
    "GridFSModelStore",
    "LocalModelStore",
    "ModelStore",
    "VersionUnknown",
    "new_version",
    "pickled_size",
    "signing_key",
]
