"""The MongoDB client's lifecycle, liveness tracking and the indexes the queries need."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pymongo
from loguru import logger
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from app.config import Settings
from app.errors import DatabaseTimeout, DatabaseUnavailable, ServiceError


@asynccontextmanager
async def database_errors(
    seconds: float | None = None, bound: str = "MONGODB_TIMEOUT_MS"
) -> AsyncIterator[None]:
    """Turns an unreachable server, or a call that outlasts `seconds` (the setting `bound`),
    into the domain error the API answers with 503, each with its own sentence. Request-path
    calls are bounded so that a stalled server (up, but not answering) cannot hold a caller;
    training reads are bounded as a whole by the registry (TRAINING_TIMEOUT_SECONDS): a
    driver timeout would also stretch server selection, and an unreachable server would then
    take that long to report."""
    try:
        with pymongo.timeout(seconds):
            yield
    except PyMongoError as exc:
        if isinstance(exc, ServerSelectionTimeoutError):
            raise DatabaseUnavailable(exc) from exc
        if exc.timeout and seconds is not None:
            raise DatabaseTimeout(
                f"The database did not answer within {seconds:g} s ({bound}), so this was "
                "stopped; it may be busy or stalled. Try again shortly, ask for less, or raise "
                f"{bound} if the database is just slow."
            ) from exc
        if isinstance(exc, ConnectionFailure) or exc.timeout:
            raise DatabaseUnavailable(exc) from exc
        raise


# How long shutdown waits for the watcher's last ping, then for the client to close.
CLOSE_SECONDS = 0.5


class Database:
    """Owns the `AsyncMongoClient` and knows whether MongoDB answered its last ping.

    The driver reconnects by itself; this class only watches, so the service can report the
    state and react when MongoDB comes back (create indexes, train models that are missing).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.MONGODB_URL,
            serverSelectionTimeoutMS=settings.MONGODB_TIMEOUT_MS,
            connectTimeoutMS=settings.MONGODB_CONNECT_TIMEOUT_MS,
            tz_aware=True,
            appname="adaptive-bi-ai-service",
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.client[settings.DATABASE_NAME]
        self.connected = False
        self._pinged = False
        self._indexed = False  # every collection indexed (they exist, and have their indexes)
        self._on_connect: list[Callable[[], None]] = []
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def on_connect(self, callback: Callable[[], None]) -> None:
        """Registers a function to call each time MongoDB becomes reachable."""
        self._on_connect.append(callback)

    async def ping(self) -> bool:
        """Pings MongoDB, updates `connected`, and fires the reconnect callbacks on a transition."""
        try:
            await self._ping_once_more_on_a_closed_connection()
        except PyMongoError as exc:
            if self.connected or not self._pinged:
                logger.warning("MongoDB is unreachable; retrying in the background: {}", exc)
            self.connected, self._pinged = False, True
            return False
        if not self.connected:
            logger.info("MongoDB is reachable at {}", _redact(self._settings.MONGODB_URL))
            self._pinged = True
            # Connected once the indexes exist: nothing that waits for `connected` (the
            # start-up trainings, which write jobs and leases) creates a collection while its
            # indexes are created; SecantusDB could deadlock on the two.
            if not await self._ensure_indexes():
                return False
            self.connected = True
            for callback in self._on_connect:
                callback()
        elif not self._indexed:  # collections that appeared since (the jobs', at a first training)
            await self._ensure_indexes()
        return True

    async def _ping_once_more_on_a_closed_connection(self) -> None:
        """A ping; a second one when the first failed on a pooled connection the server had
        closed (the driver drops it then): one stale connection must not make a server that
        answers look down. A server not found is not tried twice."""
        for attempt in (1, 2):
            try:
                with pymongo.timeout(self._settings.MONGODB_TIMEOUT_MS / 1000):
                    await self.client.admin.command("ping")
                return
            except ServerSelectionTimeoutError:
                raise
            except AutoReconnect:
                if attempt == 2:
                    raise

    def start(self) -> None:
        """Starts watching MongoDB in the background: a ping every DB_WATCH_INTERVAL_SECONDS."""
        self._watcher = asyncio.create_task(self._watch(), name="database-watch")

    async def _watch(self) -> None:
        while not self._stopping.is_set():
            await self.ping()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), self._settings.DB_WATCH_INTERVAL_SECONDS
                )

    async def data_fingerprint(self) -> dict[str, str] | None:
        """What tells whether the producer's data changed: the transactions' count (from the
        collection's metadata) and latest date (from its index). None if MongoDB does not
        answer."""
        s = self._settings
        transactions = self.db[s.TRANSACTIONS_COLLECTION]
        try:
            async with database_errors(s.MONGODB_TIMEOUT_MS / 1000):
                count = await transactions.estimated_document_count()
                latest = await transactions.find_one(
                    {}, sort=[(s.TRANSACTION_DATE_FIELD, DESCENDING)], projection={"_id": 1}
                )
        except ServiceError:
            return None
        return {"transactions": str(count), "latest": str(latest["_id"] if latest else None)}

    async def _ensure_indexes(self) -> bool:
        """Creates the indexes the queries filter on (the service's training jobs' too), on the
        collections that exist: an index never creates a collection, which SecantusDB could
        deadlock on while other connections read (seen in test runs); a collection that appears
        later is indexed at a later ping. Default names keep it idempotent. False when MongoDB
        stopped answering meanwhile."""
        s = self._settings
        wanted = {
            s.TRANSACTIONS_COLLECTION: [
                [(s.TRANSACTION_DATE_FIELD, ASCENDING)],
                [(s.TRANSACTION_USER_FIELD, ASCENDING), (s.TRANSACTION_PRODUCT_FIELD, ASCENDING)],
            ],
            s.PRODUCTS_COLLECTION: [[(s.PRODUCT_ID_FIELD, ASCENDING)]],
            s.JOBS_COLLECTION: [
                [("model", ASCENDING), ("created_at", DESCENDING)],
                [("created_at", DESCENDING)],
            ],
        }
        try:
            existing = set(await self.db.list_collection_names())
            for name, indexes in wanted.items():
                for keys in indexes if name in existing else []:
                    await self.db[name].create_index(keys)
            self._indexed = existing >= set(wanted)
        except OperationFailure as exc:
            logger.warning("Could not create an index ({}); queries will be slower", exc)
            self._indexed = True
        except PyMongoError as exc:
            logger.warning("Could not create indexes yet ({}); will retry on reconnect", exc)
            return False
        return True

    async def stop(self) -> None:
        """Stops the watcher, then closes the client. The watcher is asked to stop rather than
        cancelled: a cancel that lands while the driver selects a server can be lost, which
        left shutdown waiting; a ping is bounded by MONGODB_TIMEOUT_MS anyway."""
        self._stopping.set()
        if self._watcher is not None:
            _, pending = await asyncio.wait({self._watcher}, timeout=CLOSE_SECONDS)
            for task in pending:
                task.cancel()
        # Closing ends the server's sessions: not worth waiting for on a stalled server.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.client.close(), CLOSE_SECONDS)


def _redact(url: str) -> str:
    """Hides credentials in a MongoDB URL before it is logged."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"
