"""Saved model versions: signed artifacts on this host's disk (`artifacts`, `signing`, their
`pointer`, ids in `version_ids`, files opened and written by `safe_files`) behind one
`ModelStore` interface, kept on disk (`local`) or in MongoDB GridFS (`gridfs`, its
`deployment_pointer`)."""

from app.core.store.artifacts import ArtifactStore
from app.core.store.gridfs import GridFSModelStore
from app.core.store.local import LocalModelStore
from app.core.store.protocol import ModelStore
from app.core.store.refusals import ArtifactInvalid, VersionUnknown
from app.core.store.safe_files import pickled_size
from app.core.store.signing import signing_key
from app.core.store.version_ids import new_version

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
