"""`make run`: the service with everything it needs, on a fresh machine.

Uses MONGODB_URL when a server answers there; otherwise starts SecantusDB (an embedded,
MongoDB-compatible server) as a child process on a persistent directory, writes demo data when
the database is empty, then serves the API. Ctrl-C stops the API, then the database."""

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from loguru import logger
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from app.config import Settings, get_settings
from app.demo_data import DemoDataSpec, database_is_empty, write_demo_data
from app.logging import configure_logging
from app.server import serve

EMBEDDED_START_SECONDS = 60.0


async def _answers(url: str, timeout_ms: int = 1500) -> bool:
    client: AsyncMongoClient = AsyncMongoClient(url, serverSelectionTimeoutMS=timeout_ms)
    try:
        await client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        await client.close()


def _start_embedded(settings: Settings, url: str) -> subprocess.Popen[bytes]:
    """Starts SecantusDB in its own session, so Ctrl-C reaches the API first and the database
    is stopped after it, in order."""
    settings.EMBEDDED_DB_PATH.mkdir(parents=True, exist_ok=True)
    settings.LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = (settings.LOG_DIR / "secantusdb.log").open("ab")
    command = [
        sys.executable, "-m", "secantus", "--host", "127.0.0.1",
        "--port", str(settings.EMBEDDED_DB_PORT),
        "--storage-path", str(settings.EMBEDDED_DB_PATH), "--log-level", "WARNING",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + EMBEDDED_START_SECONDS
    while not asyncio.run(_answers(url, 500)):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            raise SystemExit(
                f"SecantusDB did not start on port {settings.EMBEDDED_DB_PORT}; "
                f"see {settings.LOG_DIR / 'secantusdb.log'}."
            )
        time.sleep(0.2)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def _database(settings: Settings) -> tuple[str, subprocess.Popen[bytes] | None]:
    """The URL to use, and the embedded server's process when this launcher started one."""
    if asyncio.run(_answers(settings.MONGODB_URL)):
        logger.info("Using the MongoDB server at MONGODB_URL")
        return settings.MONGODB_URL, None
    url = f"mongodb://127.0.0.1:{settings.EMBEDDED_DB_PORT}"
    if asyncio.run(_answers(url)):
        logger.info("Using the embedded database already running at {}", url)
        return url, None
    logger.info(
        "No MongoDB at MONGODB_URL; starting SecantusDB at {} on {}",
        url,
        Path(settings.EMBEDDED_DB_PATH).resolve(),
    )
    return url, _start_embedded(settings, url)


async def _seed_if_empty(settings: Settings) -> None:
    client: AsyncMongoClient = AsyncMongoClient(settings.MONGODB_URL, tz_aware=True)
    try:
        db = client[settings.DATABASE_NAME]
        if await database_is_empty(db):
            spec = DemoDataSpec()
            logger.info(
                "The database is empty: writing demo data ({} days, {} transactions)",
                spec.days,
                spec.transactions,
            )
            counts = await write_demo_data(db, spec)
            logger.info("Demo data written: {}", counts)
    finally:
        await client.close()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.LOG_DIR, settings.LOG_LEVEL)
    url, process = _database(settings)
    try:
        settings = settings.model_copy(update={"MONGODB_URL": url})
        asyncio.run(_seed_if_empty(settings))
        serve(settings)
    finally:
        if process is not None:
            logger.info("Stopping the embedded database")
            _stop(process)


if __name__ == "__main__":
    main()
