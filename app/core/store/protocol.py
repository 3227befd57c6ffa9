"""The one interface of a model store, which the registry and its trainings use: versions of
each model, saved, listed, loaded with every check, and the one the deployment serves (as
MLflow's abstract store or BentoML's `Store` give one face to several backends).

Two calls are synchronous because they are cheap and asked often: `pointer_stamp` (before
every request) and `current`. Both look at this host's disk whatever the store: workers of
one service share it, and a store in MongoDB keeps there a copy of the versions it serves."""

from typing import Any, Protocol

# A saved model, of whatever type its capability fitted, and its metadata.
Loaded = tuple[object, dict[str, Any]]


class ModelStore(Protocol):
    def pointer_stamp(self, name: str) -> tuple[int, int] | None:
        """When the version this host serves last changed (see `ArtifactStore.pointer_stamp`)."""
        ...

    def current(self, name: str) -> str | None:
        """The id of the version this host serves, or None before any."""
        ...

    def unexpected_pointer(self, name: str) -> str | None:
        """The version this host's pointer names when neither a training nor a rollback of the
        service put it there (someone wrote the store); None otherwise."""
        ...

    async def refresh(self) -> None:
        """Brings this host up to date with versions saved or rolled back elsewhere."""
        ...

    async def save(self, name: str, model: object, metadata: dict[str, Any]) -> dict[str, Any]:
        """Saves a new version and makes it current; returns its metadata as saved."""
        ...

    async def set_current(self, name: str, version_id: str) -> None:
        """Makes a saved version the one served (a rollback)."""
        ...

    async def load_current(self, name: str, model_type: str) -> Loaded | None:
        """The current version's model and metadata, None when never saved."""
        ...

    async def load(self, name: str, version_id: str, model_type: str) -> Loaded:
        """One version's model and metadata, once every check has passed."""
        ...

    async def versions(self, name: str) -> list[dict[str, Any]]:
        """Every saved version's metadata, newest first, each with `signed`."""
        ...

    async def sweep(self) -> int:
        """Removes what an interrupted save left behind; returns how many."""
        ...
