"""The MongoDB client's lifecycle, liveness tracking and the indexes the queries need."""

import asyncio
from collections.abc import Callable

import pymongo
from loguru import logger
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from app.config import Settings


class Database:
    """Owns the `AsyncMongoClient` and knows whether MongoDB answered its last ping.

    The driver reconnects by itself; this class only watches, so the service can report the
    state and react when MongoDB comes back (create indexes, train models that are missing).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.client: AsyncMongoClient = AsyncMongoClient(
            settings.MONGODB_URL,
            serverSelectionTimeoutMS=settings.MONGODB_TIMEOUT_MS,
            connectTimeoutMS=settings.MONGODB_CONNECT_TIMEOUT_MS,
            tz_aware=True,
            appname="adaptive-bi-ai-service",
        )
        self.db: AsyncDatabase = self.client[settings.DATABASE_NAME]
        self.connected = False
        self._pinged = False
        self._on_connect: list[Callable[[], None]] = []

    def on_connect(self, callback: Callable[[], None]) -> None:
        """Registers a function to call each time MongoDB becomes reachable."""
        self._on_connect.append(callback)

    async def ping(self) -> bool:
        """Pings MongoDB, updates `connected`, and fires the reconnect callbacks on a transition."""
        try:
            with pymongo.timeout(self._settings.MONGODB_TIMEOUT_MS / 1000):
                await self.client.admin.command("ping")
        except PyMongoError as exc:
            if self.connected or not self._pinged:
                logger.warning("MongoDB is unreachable; retrying in the background: {}", exc)
            self.connected, self._pinged = False, True
            return False
        if not self.connected:
            logger.info("MongoDB is reachable at {}", _redact(self._settings.MONGODB_URL))
            self.connected, self._pinged = True, True
            await self._ensure_indexes()
            if not self.connected:
                return False
            for callback in self._on_connect:
                callback()
        return True

    async def watch(self) -> None:
        """Pings forever at the configured interval; runs as a background task."""
        while True:
            await self.ping()
            await asyncio.sleep(self._settings.DB_WATCH_INTERVAL_SECONDS)

    async def _ensure_indexes(self) -> None:
        """Creates the indexes the queries filter on; default names keep it idempotent."""
        s = self._settings
        transactions = self.db[s.TRANSACTIONS_COLLECTION]
        try:
            await transactions.create_index([(s.TRANSACTION_DATE_FIELD, ASCENDING)])
            await transactions.create_index(
                [(s.TRANSACTION_USER_FIELD, ASCENDING), (s.TRANSACTION_PRODUCT_FIELD, ASCENDING)]
            )
            await self.db[s.PRODUCTS_COLLECTION].create_index([(s.PRODUCT_ID_FIELD, ASCENDING)])
        except OperationFailure as exc:
            logger.warning("Could not create an index ({}); queries will be slower", exc)
        except PyMongoError as exc:
            logger.warning("Could not create indexes yet ({}); will retry on reconnect", exc)
            self.connected = False

    async def close(self) -> None:
        await self.client.close()


def _redact(url: str) -> str:
    """Hides credentials in a MongoDB URL before it is logged."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"
