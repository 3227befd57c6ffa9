"""The demo-data command: `python -m app.dev.demo [options]` writes demo data to MongoDB."""

import argparse
import asyncio
import time
from typing import Any

from loguru import logger
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from app.config import get_settings
from app.dev.demo.mongo import COLLECTIONS, PRODUCTS, TRANSACTIONS, USERS, write_demo_data
from app.dev.demo.spec import DemoDataSpec


def _parser() -> argparse.ArgumentParser:
    """CLI options; spec defaults come from DemoDataSpec so they cannot drift."""
    d = DemoDataSpec()
    p = argparse.ArgumentParser(
        prog="python -m app.dev.demo", description="Write reproducible demo data to MongoDB."
    )
    p.add_argument("--days", type=int, default=d.days)
    p.add_argument("--transactions", type=int, default=d.transactions)
    p.add_argument("--users", type=int, default=d.users)
    p.add_argument("--products", type=int, default=d.products)
    p.add_argument("--anomaly-share", type=float, default=d.anomaly_share)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--mongodb-url", help="default: MONGODB_URL setting")
    p.add_argument("--database", help="default: DATABASE_NAME setting")
    p.add_argument("--drop", action="store_true", help="drop the three collections first")
    return p


async def _run(url: str, database: str, spec: DemoDataSpec, drop: bool) -> dict[str, int]:
    """Connects, refuses to mix with existing data unless --drop, writes, closes."""
    try:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=5000
        )
    except (PyMongoError, ValueError) as exc:  # malformed URL or options
        logger.error("Invalid MongoDB URL: {}", exc)
        raise SystemExit(1) from None
    try:
        db = client[database]
        try:
            await client.admin.command("ping")
        except PyMongoError as exc:
            logger.error("Cannot reach MongoDB for database '{}': {}", database, exc)
            raise SystemExit(1) from None
        if drop:
            for name in COLLECTIONS:
                await db.drop_collection(name)
            logger.info("Dropped {} in {}", ", ".join(COLLECTIONS), database)
        else:
            occupied = [n for n in COLLECTIONS if await db[n].find_one({}, {"_id": 1}) is not None]
            if occupied:
                logger.error(
                    "Database '{}' already has data in {}; refusing to add demo data. "
                    "Re-run with --drop to replace it.",
                    database,
                    ", ".join(occupied),
                )
                raise SystemExit(1)
        return await write_demo_data(db, spec)
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> None:
    """CLI entry point: python -m app.dev.demo [options]; exits 1 on a non-empty database."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        spec = DemoDataSpec(
            days=args.days,
            transactions=args.transactions,
            users=args.users,
            products=args.products,
            anomaly_share=args.anomaly_share,
            seed=args.seed,
        )
    except ValueError as exc:
        parser.error(str(exc))
    url, database = args.mongodb_url, args.database
    if url is None or database is None:
        settings = get_settings()
        url = url or settings.MONGODB_URL
        database = database or settings.DATABASE_NAME
    started = time.perf_counter()
    counts = asyncio.run(_run(url, database, spec, args.drop))
    logger.info(
        "Wrote {} products, {} users, {} transactions to '{}' in {:.1f} s",
        counts[PRODUCTS],
        counts[USERS],
        counts[TRANSACTIONS],
        database,
        time.perf_counter() - started,
    )
