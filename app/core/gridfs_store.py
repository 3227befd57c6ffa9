"""Model versions in MongoDB GridFS (`MODEL_STORE=gridfs`), shared by every replica without a
shared volume.

    <bucket>.files / .chunks   one GridFS file per version, named `<model>/<version>`, its
                               signed metadata in the file's `metadata.signed` as the JSON
                               text that was signed (a BSON document could come back with
                               other types, and its signature would no longer hold)
    <bucket>.current           one document per model: the version the deployment serves

GridFS writes a file's chunks first and its `files` document last, so a save interrupted
half-way leaves only chunks nobody lists (swept once old, like the disk's leftovers), and the
pointer moves only once the file is whole. Each host keeps a copy of the versions it serves
under MODEL_SAVE_PATH (the disk store): models load from there with the same checks (signature,
format, checksum), its `current` pointer is what the workers of the host follow before each
request, and a host whose database is down at start still serves what it served before.
`refresh` brings that copy up to date with the deployment's pointer: the registry calls it every
MODEL_SYNC_SECONDS, so a version trained or rolled back on another replica is served here
within seconds."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from loguru import logger
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from app.core.database import database_errors
from app.core.model_store import LocalModelStore
from app.core.store import SWEEP_AFTER_SECONDS, ArtifactStore, VersionUnknown
from app.errors import ServiceError

_TRANSFER_BOUND = "TRAINING_TIMEOUT_SECONDS"


class GridFSModelStore(LocalModelStore):
    """Versions in a GridFS bucket, served from this host's copy of them (`files`)."""

    kind = "gridfs"

    def __init__(
        self,
        files: ArtifactStore,
        db: AsyncDatabase[dict[str, Any]],
        bucket: str,
        seconds: float,
        transfer_seconds: float,
        keep_versions: int,
    ) -> None:
        super().__init__(files)
        self._bucket = AsyncGridFSBucket(db, bucket_name=bucket)
        self._files = db[f"{bucket}.files"]
        self._chunks = db[f"{bucket}.chunks"]
        self._pointers = db[f"{bucket}.current"]
        self._seconds = seconds  # each small call (MONGODB_TIMEOUT_MS)
        self._transfer_seconds = transfer_seconds  # an upload or a download
        self._keep = keep_versions
        # The deployment's pointer of each model as this process last followed it: a version
        # this host serves but never saved in GridFS (its upload failed) is not undone.
        self._followed: dict[str, str] = {}

    async def refresh(self) -> None:
        """Serves here the version each model's deployment pointer names, when it moved since
        this process last looked: copies it to disk if needed and moves the host's pointer.
        A version that cannot be copied is logged and tried again at the next refresh."""
        async with database_errors(self._seconds):
            pointers = [document async for document in self._pointers.find({})]
        for pointer in pointers:
            name, version = str(pointer["_id"]), str(pointer["version"])
            if self._followed.get(name) == version:
                continue
            if self.files.current(name) != version:
                try:
                    await self._serve_here(name, version)
                except (ServiceError, PyMongoError, VersionUnknown, OSError) as exc:
                    logger.warning(
                        "Could not copy the {} model's version {}: {}", name, version, exc
                    )
                    continue
                logger.info("The {} model's version {} was set by another replica", name, version)
            self._followed[name] = version

    async def save(self, name: str, model: object, metadata: dict[str, Any]) -> dict[str, Any]:
        """Uploads a new version, points the deployment at it, copies it here; then prunes the
        oldest versions beyond `keep_versions` in GridFS (the disk copy prunes its own)."""
        data, sealed = await asyncio.to_thread(self.files.seal, model, metadata)
        version = sealed["version"]
        async with database_errors(self._transfer_seconds, _TRANSFER_BOUND):
            await self._bucket.upload_from_stream(
                _filename(name, version),
                data,
                metadata={"model": name, "signed": json.dumps(sealed, indent=2)},
            )
        await self._point(name, version)
        self._followed[name] = version
        try:
            await asyncio.to_thread(self._keep_here, name, data, sealed)
        except OSError as exc:
            logger.warning(
                "The {} model's version {} is saved in GridFS but not on this host's disk ({}): "
                "it is served from memory until the next start",
                name,
                version,
                exc.strerror or type(exc).__name__,
            )
        await self._prune(name, keep=version)
        return sealed

    async def set_current(self, name: str, version_id: str) -> None:
        """Points the deployment at a saved version (a rollback) and serves it here."""
        await self._copy_here(name, version_id)
        await self._point(name, version_id)
        await self._serve_here(name, version_id)

    async def load(self, name: str, version_id: str, model_type: str) -> tuple[Any, dict[str, Any]]:
        """One version, copied here first if this host has not got it."""
        await self._copy_here(name, version_id)
        return await super().load(name, version_id, model_type)

    async def versions(self, name: str) -> list[dict[str, Any]]:
        """Every version in GridFS, newest first; the metadata only, no artifact is read."""
        async with database_errors(self._seconds):
            documents = await self._version_documents(name, {"filename": 1, "metadata": 1})
        return [
            self.files.listed(_version_of(document), _signed_metadata(document))
            for document in documents
        ]

    async def sweep(self) -> int:
        """Removes the disk's leftovers and the chunks of uploads that never completed (old
        enough not to be another replica's upload under way)."""
        removed = await super().sweep()
        oldest = datetime.now(UTC) - timedelta(seconds=SWEEP_AFTER_SECONDS)
        try:
            async with database_errors(self._seconds):
                uploaded = await self._chunks.distinct("files_id")
                complete = {
                    document["_id"]
                    async for document in self._files.find({"_id": {"$in": uploaded}}, {"_id": 1})
                }
                for file_id in uploaded:
                    orphan = file_id not in complete and isinstance(file_id, ObjectId)
                    if orphan and file_id.generation_time < oldest:
                        await self._chunks.delete_many({"files_id": file_id})
                        removed += 1
        except (ServiceError, PyMongoError) as exc:
            logger.warning("GridFS leftovers not swept: {}", _reason(exc))
        return removed

    async def _serve_here(self, name: str, version: str) -> None:
        """Copies a version to this host if needed and makes it the one its workers serve."""
        await self._copy_here(name, version)
        await asyncio.to_thread(self._follow_here, name, version)
        self._followed[name] = version

    def _follow_here(self, name: str, version: str) -> None:
        self.files.set_current(name, version)
        self.files.prune(name, keep=version)

    def _keep_here(self, name: str, data: bytes, sealed: dict[str, Any]) -> None:
        self.files.put(name, data, sealed)
        self._follow_here(name, sealed["version"])

    async def _copy_here(self, name: str, version: str) -> None:
        """Downloads a version to this host's disk unless it is there; `VersionUnknown` when
        GridFS has no such version. Its checks are made when it is loaded."""
        if await asyncio.to_thread(self.files.has, name, version):
            return
        async with database_errors(self._seconds):
            document = await self._files.find_one({"filename": _filename(name, version)})
        if document is None:
            raise VersionUnknown(version)
        try:
            async with database_errors(self._transfer_seconds, _TRANSFER_BOUND):
                stream = await self._bucket.open_download_stream(document["_id"])
                data = await stream.read()
        except NoFile:  # pruned by another replica meanwhile
            raise VersionUnknown(version) from None
        signed = _signed_metadata(document)
        # An id other than the file's, or none, breaks the signature: such a copy is refused.
        metadata = {**(signed if isinstance(signed, dict) else {}), "version": version}
        await asyncio.to_thread(self.files.put, name, data, metadata)

    async def _point(self, name: str, version: str) -> None:
        async with database_errors(self._seconds):
            await self._pointers.update_one(
                {"_id": name},
                {"$set": {"version": version, "changed_at": datetime.now(UTC)}},
                upsert=True,
            )

    async def _version_documents(
        self, name: str, projection: dict[str, int]
    ) -> list[dict[str, Any]]:
        """The `files` documents of a model's versions, newest first (ids sort by time)."""
        cursor = self._files.find({"filename": {"$regex": f"^{name}/"}}, projection)
        documents = await cursor.sort("filename", -1).to_list(None)
        return documents

    async def _prune(self, name: str, keep: str) -> None:
        """Deletes the oldest versions beyond `keep_versions` from GridFS, never the one the
        deployment serves nor the one just saved. A failure leaves them for the next save."""
        try:
            async with database_errors(self._seconds):
                documents = await self._version_documents(name, {"filename": 1})
                pointer = await self._pointers.find_one({"_id": name})
                live = {keep, pointer["version"] if pointer else keep}
                for document in documents[self._keep :]:
                    if _version_of(document) not in live:
                        await self._bucket.delete(document["_id"])
                        logger.info("Pruned {} model version {}", name, _version_of(document))
        except (ServiceError, PyMongoError) as exc:
            logger.warning("Old {} model versions not pruned: {}", name, _reason(exc))


def _reason(exc: Exception) -> str:
    return exc.detail if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"


def _signed_metadata(document: dict[str, Any]) -> object:
    """The signed metadata a `files` document carries; anything unreadable is not signed."""
    text = (document.get("metadata") or {}).get("signed")
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _filename(name: str, version: str) -> str:
    return f"{name}/{version}"


def _version_of(document: dict[str, Any]) -> str:
    return str(document["filename"]).rpartition("/")[2]
