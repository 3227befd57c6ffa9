"""One trainer per model for the whole deployment: a lease in MongoDB, taken before a training,
renewed while it runs, released at its end, and taken over once it expires (its holder died).

Taking the lease is one atomic `find_one_and_update` with `upsert`: it matches the lease only if
it expired or is already ours; when another holder's lease is live, the upsert collides with its
`_id` and the lease is not ours."""

from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from app.core.clock import Clock
from app.core.database import database_errors

LEASE_SECONDS = 60.0


class Leases:
    """Training leases in the jobs collection's sibling, `<JOBS_COLLECTION>_leases`."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        collection: str,
        holder: str,
        seconds: float,
        clock: Clock,
    ) -> None:
        self._collection = db[f"{collection}_leases"]
        self._holder = holder
        self._seconds = seconds  # the bound of every call (MONGODB_TIMEOUT_MS)
        self._clock = clock

    async def take(self, model: str, job_id: str) -> str | None:
        """Takes or renews the lease of a model's training for a job; returns None when it is
        ours, else the job id of the live holder. Raises the database's domain errors."""
        now = self._clock()
        try:
            async with database_errors(self._seconds):
                await self._collection.find_one_and_update(
                    {
                        "_id": model,
                        "$or": [{"expires_at": {"$lt": now}}, {"holder": self._holder}],
                    },
                    {
                        "$set": {
                            "holder": self._holder,
                            "job": job_id,
                            "expires_at": now + timedelta(seconds=LEASE_SECONDS),
                        }
                    },
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
        except DuplicateKeyError:
            async with database_errors(self._seconds):
                held = await self._collection.find_one({"_id": model})
            # Released between the two calls: free to take again.
            return str(held["job"]) if held else await self.take(model, job_id)
        return None

    async def release(self, model: str) -> None:
        async with database_errors(self._seconds):
            await self._collection.delete_one({"_id": model, "holder": self._holder})
