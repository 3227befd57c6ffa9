"""The deployment's pointer in MongoDB (`<bucket>.current`): one document per model naming the
version every replica serves, and the signed record of a rollback to it. Apart from the GridFS
store, which moves versions between GridFS and this host's disk."""

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from app.core.db import database_errors
from app.core.names import MODEL_NAMES


class DeploymentPointer:
    """Reads and moves the pointer documents of every model, each call bounded by `seconds`
    (MONGODB_TIMEOUT_MS) unless said otherwise."""

    def __init__(self, pointers: AsyncCollection[dict[str, Any]], seconds: float) -> None:
        self._pointers = pointers
        self._seconds = seconds

    async def all(self) -> list[dict[str, Any]]:
        """The pointer document of every model that has one."""
        async with database_errors(self._seconds):
            return await self._pointers.find({"_id": {"$in": list(MODEL_NAMES)}}).to_list(None)

    async def get(self, name: str) -> dict[str, Any] | None:
        """A model's pointer document, None without one; bounded by the caller."""
        return await self._pointers.find_one({"_id": name})

    async def move(self, name: str, version: str, rollback: str | None = None) -> None:
        """Moves the deployment's pointer; a rollback carries its signed record, which the
        other hosts keep when they follow it."""
        async with database_errors(self._seconds):
            await self._pointers.update_one(
                {"_id": name},
                {
                    "$set": {
                        "version": version,
                        "changed_at": datetime.now(UTC),
                        "rollback": rollback,
                    }
                },
                upsert=True,
            )

    async def put_back(self, name: str, version: str, before: dict[str, Any] | None) -> None:
        """Puts the pointer back as it was (`before`, None when there was none), if it names
        `version`."""
        moved = {"_id": name, "version": version}
        async with database_errors(self._seconds):
            if before is None:
                await self._pointers.delete_one(moved)
            else:
                await self._pointers.replace_one(moved, before)
