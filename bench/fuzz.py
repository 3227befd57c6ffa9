"""Schema fuzzing of a running service: schemathesis over the OpenAPI schema it serves.

    python -m bench.fuzz [--examples 200] [--seed 20261126] [--size 50000]
                         [--workdir bench/.data]
    python -m bench.fuzz --url http://HOST:PORT [--mongodb-url mongodb://HOST:PORT]

Without --url it writes demo data (--size transactions, kept in --workdir for later runs) into
a SecantusDB child process, starts the service as a child process on a free port and waits
until its three models are trained. Schemathesis's engine then runs its example, coverage and
fuzzing phases (valid and invalid requests) on every operation of /openapi.json, the three
POST .../train included, with at most --examples fuzzed requests per operation, derandomized
from --seed, half the user ids, product ids and categories taken from the data (with --url,
only if --mongodb-url names its database), and the checks of app/dev/fuzzing.py: no 5xx;
status code, content type, headers and body as documented. It prints, per operation, the
requests sent by status code, then each distinct failure with a curl command that reproduces
it, and writes bench/results/fuzz.json. Exits 1 when something failed.
"""

import argparse
import asyncio
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import schemathesis
from pymongo import AsyncMongoClient
from schemathesis.engine import Status, from_schema
from schemathesis.engine.events import EngineFinished, FatalError, NonFatalError, ScenarioFinished

from app.dev.fuzzing import SEED, KnownValues, fuzz_config
from bench.demo_db import DATABASE, embedded_database, seed
from bench.serving import ROOT, save_results, trained_service


async def _known_values(url: str) -> KnownValues:
    """The demo data's categories, products and most active buyers."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    db = client[DATABASE]
    buyers = await (
        await db.transactions.aggregate(
            [{"$group": {"_id": "$userId", "n": {"$sum": 1}}}, {"$sort": {"n": -1}},
             {"$limit": 200}]
        )
    ).to_list()  # fmt: skip
    known = KnownValues(
        users=tuple(buyer["_id"] for buyer in buyers),
        products=tuple(await db.products.distinct("productId")),
        categories=tuple(await db.products.distinct("category")),
    )
    await client.close()
    return known


class _Tally:
    """Answers by operation and status, and each distinct failure once, with its curl."""

    def __init__(self) -> None:
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)
        self.failures: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(self, event: ScenarioFinished) -> None:
        label = event.label or "?"
        for interaction in event.recorder.interactions.values():
            if interaction.response is not None:
                self.statuses[label][interaction.response.status_code] += 1
        for check in (check for checks in event.recorder.checks.values() for check in checks):
            if check.status is not Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            key = (label, failure.code, failure.message.splitlines()[0])
            self.failures.setdefault(
                key,
                {
                    "operation": label,
                    "code": failure.code,
                    "title": failure.title,
                    "message": failure.message,
                    "reproduce": check.failure_info.code_sample,
                },
            )


def fuzz(base: str, examples: int, seed: int, known: KnownValues) -> dict[str, Any]:
    """Runs the engine against the service at `base`; returns counts and distinct failures."""
    config = fuzz_config(examples, seed, known, base_url=base, request_timeout=600)
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json", config=config)
    tally, errors = _Tally(), []
    started = time.perf_counter()
    for event in from_schema(schema).execute():
        if isinstance(event, ScenarioFinished):
            tally.add(event)
        elif isinstance(event, NonFatalError):
            errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, FatalError):
            errors.append(repr(event.exception))
        elif isinstance(event, EngineFinished):
            break
    return {
        "seed": seed,
        "max_examples": examples,
        "seconds": round(time.perf_counter() - started, 1),
        "requests": {label: dict(sorted(c.items())) for label, c in tally.statuses.items()},
        "failures": list(tally.failures.values()),
        "errors": errors,
    }


@contextmanager
def demo_service(size: int, workdir: Path) -> Iterator[tuple[str, KnownValues]]:
    """The service over `size` demo transactions, models trained; yields its base URL and
    the data's ids."""
    with embedded_database(workdir / f"db-{size}") as url:
        seed(url, size)
        known = asyncio.run(_known_values(url))
        with trained_service(url, workdir) as (base, _):
            yield base, known


def _print(result: dict[str, Any]) -> None:
    codes = sorted({code for counts in result["requests"].values() for code in counts})
    print(f"\n{result['seconds']} s, seed {result['seed']}, max examples {result['max_examples']}")
    print("| operation | requests | " + " | ".join(str(code) for code in codes) + " |")
    print("|---|---|" + "---|" * len(codes))
    for label, counts in sorted(result["requests"].items()):
        cells = " | ".join(str(counts.get(code, "")) for code in codes)
        print(f"| {label} | {sum(counts.values())} | {cells} |")
    total = sum(sum(counts.values()) for counts in result["requests"].values())
    print(f"\n{total} requests, {len(result['failures'])} distinct failures")
    for failure in result["failures"]:
        print(f"\n### {failure['operation']}: {failure['code']} {failure['title']}")
        print(failure["message"])
        print(failure["reproduce"])
    for error in result["errors"]:
        print(f"\nerror: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running service; default: start one over demo data")
    parser.add_argument(
        "--mongodb-url", help="with --url: its database, to take real ids from (adaptive_bi)"
    )
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    if args.url:
        known = asyncio.run(_known_values(args.mongodb_url)) if args.mongodb_url else KnownValues()
        result = fuzz(args.url.rstrip("/"), args.examples, args.seed, known)
    else:
        args.workdir.mkdir(parents=True, exist_ok=True)
        with demo_service(args.size, args.workdir) as (base, known):
            result = fuzz(base, args.examples, args.seed, known)
    path = save_results("fuzz", result)
    _print(result)
    print(f"\nwritten to {path}")
    sys.exit(1 if result["failures"] or result["errors"] else 0)


if __name__ == "__main__":
    main()
