"""A SecantusDB child process over a kept directory, and demo data sized for a benchmark."""

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pymongo import AsyncMongoClient

from app.dev import embedded
from app.dev.demo.mongo import database_is_empty, write_demo_data
from app.dev.demo.spec import DemoDataSpec

DATABASE = "adaptive_bi"


def spec_for(transactions: int) -> DemoDataSpec:
    """120 days; users and products grow with the data, as a real shop's would."""
    return DemoDataSpec(
        days=120,
        transactions=transactions,
        users=max(2_000, transactions // 25),
        products=max(500, transactions // 500),
        seed=42,
    )


@contextmanager
def embedded_database(directory: Path) -> Iterator[str]:
    """Starts SecantusDB on `directory` and yields its URL; stops it afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process, url = embedded.start(directory, port, directory.parent / f"{directory.name}.log")
    try:
        yield url
    finally:
        embedded.stop(process)


def seed(url: str, transactions: int) -> tuple[float | None, str]:
    """Writes the demo data unless already there; returns the seconds it took (None when
    reused) and a user with purchases, to ask recommendations for."""
    return asyncio.run(_seed(url, transactions))


async def _seed(url: str, transactions: int) -> tuple[float | None, str]:
    client: AsyncMongoClient = AsyncMongoClient(url, tz_aware=True)
    db = client[DATABASE]
    seconds = None
    if await database_is_empty(db):
        started = time.perf_counter()
        await write_demo_data(db, spec_for(transactions))
        seconds = time.perf_counter() - started
    top = await (
        await db.transactions.aggregate(
            [{"$limit": 2000}, {"$group": {"_id": "$userId", "n": {"$sum": 1}}},
             {"$sort": {"n": -1}}, {"$limit": 1}]
        )
    ).to_list()  # fmt: skip
    await client.close()
    return seconds, top[0]["_id"]
