"""One trainer per model for the whole deployment: a lease in MongoDB, taken before a training,
renewed while it runs, released at its end, and taken over once it expires (its holder died).

Time is MongoDB's: the lease's expiry is set and judged by the server's clock (`$$NOW`), never
a replica's, so a replica whose clock runs fast cannot take a live lease, nor one whose clock
runs slow keep a dead one. Taking the lease is one atomic `find_one_and_update` with `upsert`
and an update pipeline: it creates the lease, or takes it over when it expired or is already
ours, and otherwise leaves it as it is; the document it returns says who holds it. (MongoDB
refuses `$expr` in an upsert's filter, so the condition lives in the pipeline, not the filter.)
"""

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from app.core.db import database_errors, from_now, older_than

LEASE_SECONDS = 60.0


class Leases:
    """Training leases in the jobs collection's sibling, `<JOBS_COLLECTION>_leases`."""

    def __init__(
        self, db: AsyncDatabase[dict[str, Any]], collection: str, holder: str, seconds: float
    ) -> None:
        self._collection = db[f"{collection}_leases"]
        self._holder = holder
        self._seconds = seconds  # the bound of every call (MONGODB_TIMEOUT_MS)

    async def take(self, model: str, job_id: str) -> str | None:
        """Takes or renews the lease of a model's training for a job; returns None when it is
        ours, else the job id of the live holder. Raises the database's domain errors."""
        lease = await self._take_or_create(model, job_id)
        if lease is None:
            # Two first takes at once, and this one lost the race to create the lease: it
            # exists now, and taking it again judges it.
            lease = await self._take_or_create(model, job_id)
        if lease is None:
            raise OperationFailure(f"The {model} training lease was deleted while being taken.")
        return None if lease["holder"] == self._holder else str(lease["job"])

    async def _take_or_create(self, model: str, job_id: str) -> dict[str, Any] | None:
        """The lease after the take; None when another take created it at the same time
        (MongoDB raises DuplicateKeyError, SecantusDB returns no document)."""
        try:
            async with database_errors(self._seconds):
                return await self._collection.find_one_and_update(
                    {"_id": model},
                    self._take_pipeline(job_id),
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
        except DuplicateKeyError:
            return None

    def _take_pipeline(self, job_id: str) -> list[dict[str, Any]]:
        """Sets holder, job and expiry to ours when the lease is missing, expired or ours, and
        keeps them otherwise (`$set` evaluates every field against the lease as it was)."""
        free = {
            "$or": [
                older_than("$expires_at", 0),
                {"$eq": ["$holder", {"$literal": self._holder}]},
            ]
        }
        ours = {
            "holder": {"$literal": self._holder},
            "job": {"$literal": job_id},
            "expires_at": from_now(LEASE_SECONDS),
        }
        return [{"$set": {key: {"$cond": [free, value, f"${key}"]} for key, value in ours.items()}}]

    async def release(self, model: str) -> None:
        async with database_errors(self._seconds):
            await self._collection.delete_one({"_id": model, "holder": self._holder})
