"""Rollups: collections of the service's own that MongoDB keeps summed per UTC day, so that a
training reads a few rows per day rather than every transaction of its window.

An update aggregates only the days since the rollup's watermark (the end of the range it
covers), plus a trailing settle window (ROLLUP_SETTLE_DAYS) aggregated again because a
transaction's status can still change (`pending` to `returned`) or it can arrive late. The days
it aggregates are deleted and written again, so a row that the new sums no longer produce (a
product whose every sale of the day was returned) goes. Days before the covered range (a longer
window asked for) are aggregated too. A rebuild forgets the watermark and aggregates the whole
range again. The trainings update the rollups under their training lease, so one replica writes
them at a time.

MongoDB groups and sums; its rows (one per day and key, never a transaction) come back in
batches of BATCH and are inserted. Not `$merge`: SecantusDB, the embedded database, took 5 to
84 ms per row to merge (2,140 rows in 180 s), where `insert_many` writes thousands a second.

Only complete days are rolled up: the window's end is a UTC midnight. A transaction dated before
the settle window that arrives (or changes status) later is missed until the next rebuild."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from app.core.db.database import database_errors

STATE_COLLECTION = "ai_service_rollups"  # one document per rollup: its covered range
DAY = "_id.day"  # every rollup row's key holds the UTC day it sums
BATCH = 5_000  # rows written at once: the service holds no more of them


@dataclass(frozen=True)
class Rollup:
    """A rollup: its collection, the collection it sums, and the pipeline summing the source's
    documents of [start, end) into rows whose `_id` holds their `day` (a UTC midnight)."""

    collection: str
    source: str
    pipeline: Callable[[datetime, datetime], list[dict[str, Any]]]


@dataclass(frozen=True)
class RollupRun:
    """What one update did: the days it aggregated ([start, end); none when it was up to
    date), the rows it wrote and removed, and how long MongoDB took."""

    start: datetime | None
    end: datetime
    written: int
    removed: int
    seconds: float


class Rollups:
    """Updates and rebuilds rollups in one database."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], settings: Settings) -> None:
        self._db = db
        self._settle = timedelta(days=settings.ROLLUP_SETTLE_DAYS)

    async def update(self, rollup: Rollup, start: datetime, end: datetime) -> RollupRun:
        """Brings the rollup up to date for the days of [start, end), both UTC midnights:
        aggregates the days not covered yet and the settle window before the covered end, and
        drops the days before `start`. A window reaching earlier than the covered one, or a
        rollup never built (or forgotten), is aggregated whole."""
        async with database_errors():
            state = await self._db[STATE_COLLECTION].find_one({"_id": rollup.collection})
        if state is None or state["start"] > start:
            return await self._aggregate(rollup, start, start, end, fresh=True)
        since = max(min(state["end"], end) - self._settle, start)
        if since >= end:
            return RollupRun(None, end, 0, 0, 0.0)
        return await self._aggregate(rollup, start, since, end, fresh=False)

    async def forget(self, rollup: Rollup) -> None:
        """Forgets what the rollup covers: the next update aggregates its whole window."""
        async with database_errors():
            await self._db[STATE_COLLECTION].delete_one({"_id": rollup.collection})

    async def rebuild(self, rollup: Rollup, start: datetime, end: datetime) -> RollupRun:
        """Aggregates every day of [start, end) again."""
        await self.forget(rollup)
        return await self.update(rollup, start, end)

    async def _aggregate(
        self, rollup: Rollup, start: datetime, since: datetime, end: datetime, fresh: bool
    ) -> RollupRun:
        """Sums [since, end) into the rollup: first records that the rollup covers only up to
        `since`, deletes the rows from `since` on (all of them, `fresh`) and before `start`,
        writes the new sums in batches, then records that it covers [start, end). A run cut
        short leaves the days not covered, so the next update aggregates them again."""
        target = self._db[rollup.collection]
        state = self._db[STATE_COLLECTION]
        # two ranges, not an `$or` of them, which SecantusDB scans the collection for
        stale = [{}] if fresh else [{DAY: {"$lt": start}}, {DAY: {"$gte": since}}]
        started = time.perf_counter()
        written = 0
        async with database_errors():
            await state.replace_one(
                {"_id": rollup.collection}, {"start": start, "end": since}, upsert=True
            )
            removed = sum([(await target.delete_many(rows)).deleted_count for rows in stale])
            cursor = await self._db[rollup.source].aggregate(
                rollup.pipeline(since, end), allowDiskUse=True, batchSize=BATCH
            )
            batch: list[dict[str, Any]] = []
            async for row in cursor:
                batch.append(row)
                if len(batch) == BATCH:
                    written += await _insert(target, batch)
            written += await _insert(target, batch)
            if fresh:  # a first build creates the collection: index its days
                await target.create_index([(DAY, ASCENDING)])
            await state.replace_one({"_id": rollup.collection}, {"start": start, "end": end})
        seconds = time.perf_counter() - started
        return RollupRun(since, end, written, removed, seconds)


async def _insert(target: AsyncCollection[dict[str, Any]], batch: list[dict[str, Any]]) -> int:
    """Writes and empties the batch; how many rows it held."""
    if batch:
        await target.insert_many(batch, ordered=False)
    count = len(batch)
    batch.clear()
    return count
