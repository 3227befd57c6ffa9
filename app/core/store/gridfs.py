"""Model versions in MongoDB GridFS (`MODEL_STORE=gridfs`), shared by every replica without a
shared volume.

    <bucket>.files / .chunks   one GridFS file per version, named `<model>/<version>`, its
                               signed metadata in the file's `metadata.signed` as the JSON
                               text that was signed (a BSON document could come back with
                               other types, and its signature would no longer hold)
    <bucket>.current           one document per model: the version the deployment serves

GridFS writes a file's chunks first and its `files` document last, so a save interrupted
half-way leaves only chunks nobody lists (swept once old), and the pointer moves only once the
file is whole. Each host keeps a copy of the versions it serves under MODEL_SAVE_PATH (the disk
store): models load from there with the same checks (signature, format, checksum), its
`current` pointer is what the workers of the host follow before each request, and a host whose
database is down still serves what it served before. `refresh` brings that copy up to date
with the deployment's pointer, once the copy passes the checks: the registry calls it every
MODEL_SYNC_SECONDS, so a version trained or rolled back on another replica is served here
within seconds. Artifacts stream between the disk and GridFS, a chunk at a time."""

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from loguru import logger
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from app.core.db import database_errors
from app.core.store.artifacts import ARTIFACT, METADATA, SWEEP_AFTER_SECONDS, ArtifactStore
from app.core.store.deployment_pointer import DeploymentPointer
from app.core.store.local import LocalModelStore
from app.core.store.protocol import Loaded
from app.core.store.refusals import ArtifactInvalid, VersionUnknown
from app.core.store.version_ids import VERSION_PATTERN, in_the_future
from app.errors import DatabaseTimeout, ServiceError


class CopyFailed(ServiceError):
    """A version could not be copied between GridFS and this host's disk."""

    status_code = 503


class GridFSModelStore:
    """Versions in a GridFS bucket, served from this host's copy of them (`files`, read through
    a `LocalModelStore`); a `ModelStore`."""

    def __init__(
        self,
        files: ArtifactStore,
        db: AsyncDatabase[dict[str, Any]],
        bucket: str,
        seconds: float,
        transfer_seconds: float,
        keep_versions: int,
    ) -> None:
        self.files = files
        self._here = LocalModelStore(files)
        self._bucket = AsyncGridFSBucket(db, bucket_name=bucket)
        self._files = db[f"{bucket}.files"]
        self._chunks = db[f"{bucket}.chunks"]
        self._pointers = DeploymentPointer(db[f"{bucket}.current"], seconds)
        self._seconds = seconds  # each small call (MONGODB_TIMEOUT_MS)
        self._transfer_seconds = transfer_seconds  # an upload or a download
        self._keep = keep_versions
        # The deployment's pointer of each model as this process last followed it (a version
        # this host serves but never saved in GridFS, its upload failed, is not undone), and
        # the versions it named that this host refused (logged once, not copied again).
        self._followed: dict[str, str] = {}
        self._refused: dict[str, str] = {}

    def pointer_stamp(self, name: str) -> tuple[int, int] | None:
        return self._here.pointer_stamp(name)

    def current(self, name: str) -> str | None:
        return self._here.current(name)

    def unexpected_pointer(self, name: str) -> str | None:
        return self._here.unexpected_pointer(name)

    async def load_current(self, name: str, model_type: str) -> Loaded | None:
        """The version this host serves: a replica that cannot reach MongoDB still serves it."""
        return await self._here.load_current(name, model_type)

    async def refresh(self) -> None:
        """Serves here the version each model's deployment pointer names, when it moved since
        this process last looked: copies it to disk if needed, checks it, and moves the host's
        pointer. A version that fails the checks is refused, and the host keeps its own."""
        for pointer in await self._pointers.all():
            name, version = str(pointer["_id"]), pointer.get("version")
            if not isinstance(version, str) or not VERSION_PATTERN.match(version):
                self._refuse(name, str(version), "the deployment's pointer names no version")
                continue
            if version in (self._followed.get(name), self._refused.get(name)):
                continue
            try:
                if self.files.current(name) != version:
                    rollback = pointer.get("rollback")
                    if isinstance(rollback, str):  # checked (signed, still valid) when judged
                        await asyncio.to_thread(self.files.keep_rollback, name, rollback)
                    if not await self._serve_checked(name, version):
                        continue
                    logger.info(
                        "The {} model's version {} was set by another replica", name, version
                    )
            except (ServiceError, VersionUnknown, PyMongoError, OSError) as exc:
                logger.warning("Could not copy the {} model's version {}: {}", name, version, exc)
                continue
            self._followed[name] = version

    async def save(self, name: str, model: object, metadata: dict[str, Any]) -> dict[str, Any]:
        """Uploads a new version, points the deployment at it, then keeps it on this host and
        prunes the oldest versions beyond `keep_versions` in GridFS (the disk prunes its own).
        A failure before the pointer is moved raises and leaves it where it was, and so does a
        failed move (one that may have landed is put back); once it is moved the save has
        happened, and what fails after is logged."""
        staging, sealed = await asyncio.to_thread(self.files.stage, name, model, metadata)
        version = sealed["version"]
        try:
            async with database_errors(self._seconds):  # reachable? before the long bound
                before = await self._pointers.get(name)
            await self._upload(name, version, staging)
            try:
                await self._pointers.move(name, version)
            except BaseException:
                await self._put_back(name, version, before)
                raise
        except BaseException:
            await asyncio.to_thread(self.files.discard, staging)
            raise
        self._followed[name] = version
        try:
            await asyncio.to_thread(self.files.publish, name, staging, version)
            await asyncio.to_thread(self._follow_here, name, version)
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
        """Points the deployment at a saved version (a rollback) and serves it here; a version
        only this host has (saved before the switch to GridFS) is uploaded first. Once the
        pointer moved, a failure here is logged: the next refresh serves it."""
        await self._copy_here(name, version_id)
        await self._upload_if_missing(name, version_id)
        rollback = await asyncio.to_thread(self.files.record_rollback, name, version_id)
        await self._pointers.move(name, version_id, rollback)
        try:
            await asyncio.to_thread(self._follow_here, name, version_id)
        except (VersionUnknown, OSError) as exc:
            logger.warning("This host serves the {} model's rollback later: {}", name, exc)
            return
        self._followed[name] = version_id

    async def load(self, name: str, version_id: str, model_type: str) -> Loaded:
        """One version, copied here first if this host has not got it."""
        downloaded = await self._copy_here(name, version_id)
        try:
            return await self._here.load(name, version_id, model_type)
        except ArtifactInvalid:
            if downloaded:
                await asyncio.to_thread(self.files.remove, name, version_id)
            raise

    async def versions(self, name: str) -> list[dict[str, Any]]:
        """Every version in GridFS, newest first; the metadata only, no artifact is read."""
        async with database_errors(self._seconds):
            documents = await self._version_documents(name, {"filename": 1, "metadata": 1})
        return [
            self.files.listed(_version_of(document), _signed_metadata(document))
            for document in documents
        ]

    async def sweep(self) -> int:
        """Removes the disk's leftovers and the chunks of uploads that never completed: older
        than an upload may take (TRAINING_TIMEOUT_SECONDS) and the disk's sweep delay, so that
        no upload under way on another replica loses its first chunks."""
        removed = await self._here.sweep()
        wait = SWEEP_AFTER_SECONDS + self._transfer_seconds
        oldest = datetime.now(UTC) - timedelta(seconds=wait)
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

    async def _serve_checked(self, name: str, version: str) -> bool:
        """Copies a version here, checks it without loading it, and makes it the one this
        host's workers serve; False, logged once, when it fails the checks (another key, other
        libraries, tampered)."""
        downloaded = await self._copy_here(name, version)
        problem = await asyncio.to_thread(self.files.verify, name, version)
        if problem:
            if downloaded:  # not kept on this host's disk: it is never served here
                await asyncio.to_thread(self.files.remove, name, version)
            self._refuse(name, version, problem)
            return False
        await asyncio.to_thread(self._follow_here, name, version)
        return True

    def _refuse(self, name: str, version: str, problem: str) -> None:
        if self._refused.get(name) != version:
            logger.warning(
                "The {} model's version {} set by another replica is refused, this host keeps "
                "its own: {}",
                name,
                version,
                problem,
            )
        self._refused[name] = version

    def _follow_here(self, name: str, version: str) -> None:
        self.files.set_current(name, version)
        self.files.prune(name, keep=version)

    async def _copy_here(self, name: str, version: str) -> bool:
        """Downloads a version to this host's disk unless it is there, and says whether it
        did; `VersionUnknown` when GridFS has no such version. Its checks are made before it is
        served (a download that fails them is removed by the caller)."""
        if await asyncio.to_thread(self.files.has, name, version):
            return False
        async with database_errors(self._seconds):
            document = await self._files.find_one({"filename": _filename(name, version)})
        if document is None:
            raise VersionUnknown(version)
        signed = (document.get("metadata") or {}).get("signed")
        staging = await asyncio.to_thread(self.files.new_staging, name)
        try:
            await self._download(document["_id"], staging / ARTIFACT)
            text = signed if isinstance(signed, str) else "{}"
            await asyncio.to_thread((staging / METADATA).write_text, text)
            await asyncio.to_thread(self.files.publish, name, staging, version)
            return True
        except NoFile:  # pruned by another replica meanwhile
            await asyncio.to_thread(self.files.discard, staging)
            raise VersionUnknown(version) from None
        except OSError as exc:
            await asyncio.to_thread(self.files.discard, staging)
            raise CopyFailed(
                f"This host could not write its copy of the {name} model's version {version} "
                f"({exc.strerror or type(exc).__name__}): is MODEL_SAVE_PATH full or read-only?"
            ) from exc
        except BaseException:
            await asyncio.to_thread(self.files.discard, staging)
            raise

    async def _download(self, file_id: Any, target: Path) -> None:
        """Streams a GridFS file to disk a chunk at a time."""
        async with self._transferring():
            stream = await self._bucket.open_download_stream(file_id)
            with target.open("wb") as f:
                while chunk := await stream.readchunk():
                    f.write(chunk)
                f.flush()
                await asyncio.to_thread(os.fsync, f.fileno())

    async def _upload(self, name: str, version: str, staging: Path) -> None:
        """Streams a staged version's artifact into GridFS, its signed metadata beside it."""
        text = await asyncio.to_thread((staging / METADATA).read_text)
        async with self._transferring():
            with (staging / ARTIFACT).open("rb") as f:
                await self._bucket.upload_from_stream(
                    _filename(name, version), f, metadata={"model": name, "signed": text}
                )

    async def _upload_if_missing(self, name: str, version: str) -> None:
        async with database_errors(self._seconds):
            found = await self._files.find_one({"filename": _filename(name, version)}, {"_id": 1})
        if found is None:
            await self._upload(name, version, self.files.directory / name / version)

    @contextlib.asynccontextmanager
    async def _transferring(self) -> AsyncIterator[None]:
        """Bounds a transfer by TRAINING_TIMEOUT_SECONDS as a whole. Not the driver's timeout,
        which would also stretch finding the server: an unreachable one is reported after
        MONGODB_TIMEOUT_MS, as everywhere else."""
        seconds = self._transfer_seconds
        try:
            async with asyncio.timeout(seconds), database_errors():
                yield
        except NoFile:
            raise
        except TimeoutError:
            raise DatabaseTimeout(
                f"A model version was not transferred within {seconds:g} s "
                "(TRAINING_TIMEOUT_SECONDS); the database may be busy or stalled."
            ) from None
        except PyMongoError as exc:
            raise CopyFailed(
                f"GridFS could not transfer a model version ({_reason(exc)})."
            ) from exc

    async def _put_back(self, name: str, version: str, before: dict[str, Any] | None) -> None:
        """After a failed move of the pointer to `version` (a timeout may hide a write that
        landed), puts it back as it was, if it names `version`; a failure is logged."""
        try:
            await self._pointers.put_back(name, version, before)
        except (ServiceError, PyMongoError) as exc:
            logger.error(
                "The {} model's pointer may name version {}, which failed to save: {}",
                name,
                version,
                _reason(exc),
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
                pointer = await self._pointers.get(name) or {}
                live = {keep, pointer.get("version")}
                future = [d for d in documents if in_the_future(_version_of(d))]
                past = [d for d in documents if not in_the_future(_version_of(d))]
                for document in [*future, *past[self._keep :]]:
                    if _version_of(document) not in live:
                        await self._bucket.delete(document["_id"])
                        logger.info("Pruned {} model version {}", name, _version_of(document))
        except (ServiceError, PyMongoError) as exc:
            logger.warning("Old {} model versions not pruned: {}", name, _reason(exc))


def _signed_metadata(document: dict[str, Any]) -> object:
    """The signed metadata a `files` document carries; anything unreadable is not signed."""
    text = (document.get("metadata") or {}).get("signed")
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _reason(exc: Exception) -> str:
    return exc.detail if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"


def _filename(name: str, version: str) -> str:
    return f"{name}/{version}"


def _version_of(document: dict[str, Any]) -> str:
    return str(document["filename"]).rpartition("/")[2]
