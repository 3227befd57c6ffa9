"""The model store on this host's disk (`MODEL_STORE=local`): the `ModelStore` interface over
the signed files of `ArtifactStore`, whose blocking file work runs here in threads."""

import asyncio
from typing import Any

from app.core.store.artifacts import ArtifactStore
from app.core.store.protocol import Loaded


class LocalModelStore:
    """Model versions under MODEL_SAVE_PATH, shared by the processes that mount it; a
    `ModelStore`."""

    def __init__(self, files: ArtifactStore) -> None:
        self.files = files

    def pointer_stamp(self, name: str) -> tuple[int, int] | None:
        """When the version this host serves last changed (see `ArtifactStore.pointer_stamp`)."""
        return self.files.pointer_stamp(name)

    def current(self, name: str) -> str | None:
        """The id of the version this host serves, or None before any."""
        return self.files.current(name)

    async def refresh(self) -> None:
        """Brings this host up to date with versions saved elsewhere: nothing to do on disk."""

    async def save(self, name: str, model: object, metadata: dict[str, Any]) -> dict[str, Any]:
        """Saves a new version and makes it current; returns its metadata as saved."""
        return await asyncio.to_thread(self.files.save, name, model, metadata)

    async def set_current(self, name: str, version_id: str) -> None:
        """Makes a saved version the one served (a rollback), recorded first (see
        `ArtifactStore.unexpected_pointer`)."""
        await asyncio.to_thread(self.files.record_rollback, name, version_id)
        await asyncio.to_thread(self.files.set_current, name, version_id)

    def unexpected_pointer(self, name: str) -> str | None:
        """The version this host's pointer names when the service did not put it there."""
        return self.files.unexpected_pointer(name)

    async def load_current(self, name: str, model_type: str) -> Loaded | None:
        """The current version's model and metadata, None when never saved."""
        return await asyncio.to_thread(self.files.load_current, name, model_type)

    async def load(self, name: str, version_id: str, model_type: str) -> Loaded:
        """One version's model and metadata, once every check has passed."""
        return await asyncio.to_thread(self.files.load, name, version_id, model_type)

    async def versions(self, name: str) -> list[dict[str, Any]]:
        """Every saved version's metadata, newest first, each with `signed`."""
        return await asyncio.to_thread(self.files.versions, name)

    async def sweep(self) -> int:
        """Removes what an interrupted save left behind; returns how many."""
        return await asyncio.to_thread(self.files.sweep)
