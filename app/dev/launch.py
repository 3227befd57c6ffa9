"""`make run`: the service with everything it needs, on a fresh machine.

Uses MONGODB_URL when a server answers there; otherwise starts SecantusDB (an embedded,
MongoDB-compatible server) as a child process on a persistent directory, writes demo data when
the database is empty, then serves the API. Ctrl-C stops the API, then the database."""

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

from loguru import logger
from pymongo import AsyncMongoClient, MongoClient

from app.config import Settings, get_settings
from app.dev import embedded
from app.dev.demo.mongo import TRANSACTIONS, write_demo_data
from app.dev.demo.spec import DemoDataSpec
from app.logging import configure_logging
from app.server import serve


def _database(settings: Settings) -> tuple[str, subprocess.Popen[bytes] | None]:
    """The URL to use, and the embedded server's process when this launcher started one."""
    if embedded.answers(settings.MONGODB_URL):
        logger.info("Using the MongoDB server at MONGODB_URL")
        return settings.MONGODB_URL, None
    url = f"mongodb://127.0.0.1:{settings.EMBEDDED_DB_PORT}"
    if embedded.answers(url):
        logger.info("Using the embedded database already running at {}", url)
        return url, None
    logger.info(
        "No MongoDB at MONGODB_URL; starting SecantusDB at {} on {}",
        url,
        Path(settings.EMBEDDED_DB_PATH).resolve(),
    )
    process, url = embedded.start(
        settings.EMBEDDED_DB_PATH, settings.EMBEDDED_DB_PORT, settings.LOG_DIR / "secantusdb.log"
    )
    return url, process


def _is_empty(settings: Settings) -> bool:
    """True when there is no transaction yet: the signal to write demo data."""
    client: MongoClient[dict[str, Any]] = MongoClient(settings.MONGODB_URL)
    try:
        db = client[settings.DATABASE_NAME]
        return db[TRANSACTIONS].find_one({}, projection={"_id": 1}) is None
    finally:
        client.close()


async def _write_demo_data(settings: Settings, spec: DemoDataSpec) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.MONGODB_URL, tz_aware=True)
    try:
        counts = await write_demo_data(client[settings.DATABASE_NAME], spec)
        logger.info("Demo data written: {}", counts)
    finally:
        await client.close()


def _seed_if_empty(settings: Settings) -> None:
    if not _is_empty(settings):
        return
    spec = DemoDataSpec()
    logger.info(
        "The database is empty: writing demo data ({} days, {} transactions)",
        spec.days,
        spec.transactions,
    )
    asyncio.run(_write_demo_data(settings, spec))


def main() -> None:
    settings = get_settings()
    configure_logging(settings.LOG_DIR, settings.LOG_LEVEL)
    url, process = _database(settings)
    try:
        settings = settings.model_copy(update={"MONGODB_URL": url})
        # Worker processes read their settings from the environment.
        os.environ["MONGODB_URL"] = url
        _seed_if_empty(settings)
        serve(settings)
    finally:
        if process is not None:
            logger.info("Stopping the embedded database")
            embedded.stop(process)


if __name__ == "__main__":
    main()
