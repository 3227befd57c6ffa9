"""The database watcher: MongoDB counts as connected once the service's indexes exist, so that
what waits for a connection (the start-up trainings, writing jobs and leases) never creates a
collection while its indexes are being created (SecantusDB deadlocked on the two, seen in a
test run: createIndexes spinning beside an upsert into the jobs collection)."""

from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError
from secantus import SecantusDBServer

from app.config import Settings
from app.core.db import Database
from tests.factories import make_settings


async def test_connected_and_its_callbacks_come_after_the_indexes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(settings)
    seen: list[str] = []
    create_indexes = Database._ensure_indexes

    async def recording(self: Database) -> bool:
        seen.append(f"indexes while connected={self.connected}")
        return await create_indexes(self)

    monkeypatch.setattr(Database, "_ensure_indexes", recording)
    database.on_connect(lambda: seen.append(f"callback while connected={database.connected}"))

    answered = await database.ping()
    await database.stop()

    assert answered
    assert seen == ["indexes while connected=False", "callback while connected=True"]


async def test_indexes_that_cannot_be_created_leave_it_disconnected(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(settings)
    called: list[bool] = []

    async def unreachable(_: Database) -> bool:
        return False

    monkeypatch.setattr(Database, "_ensure_indexes", unreachable)
    database.on_connect(lambda: called.append(True))

    answered = await database.ping()
    await database.stop()

    assert not answered
    assert not database.connected
    assert called == []


async def test_an_index_never_creates_a_collection_one_created_later_is_indexed(
    mongo_server: SecantusDBServer, tmp_path: Path
) -> None:
    """SecantusDB deadlocked (seen in test runs) creating a collection for an index while other
    connections read: the service indexes only collections that exist, and indexes one that
    appears (the jobs', at the first training) at a later ping."""
    settings = make_settings(mongo_server.uri, tmp_path, DATABASE_NAME="indexes_later")
    database = Database(settings)
    try:
        await database.ping()
        before = await database.db.list_collection_names()
        await database.db[settings.JOBS_COLLECTION].insert_one({"_id": "first-job"})
        await database.ping()
        jobs_indexes = await database.db[settings.JOBS_COLLECTION].index_information()
    finally:
        await database.client.drop_database("indexes_later")
        await database.stop()

    assert before == []
    assert "created_at_-1" in jobs_indexes
    assert "model_1_created_at_-1" in jobs_indexes


async def test_a_ping_on_a_closed_connection_is_tried_once_more_a_missing_server_is_not(
    mongo_server: SecantusDBServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(make_settings(mongo_server.uri, tmp_path))
    real = AsyncDatabase.command
    failures: list[Exception] = [AutoReconnect("127.0.0.1:1: connection is already closed")]
    pings = []

    async def command(self: AsyncDatabase, name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == "ping" and self.client is database.client:  # not another app's watcher
            pings.append(self.name)
            if failures:
                raise failures.pop()
        return await real(self, name, *args, **kwargs)

    monkeypatch.setattr(AsyncDatabase, "command", command)
    answered = await database.ping()
    tried_twice = list(pings)
    failures.append(ServerSelectionTimeoutError("no server"))
    pings.clear()
    missing = await database.ping()

    await database.client.close()
    assert answered is True
    assert tried_twice == ["admin", "admin"]
    assert missing is False
    assert pings == ["admin"]
