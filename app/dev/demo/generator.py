"""Realistic, reproducible demo data in the data producer's MongoDB schema: the whole data set.

Why: the service must run, be tested and be benchmarked without the real e-commerce platform.
The data carries the patterns the models look for (weekly seasonality, trend, category
preferences, long-tailed popularity, a labelled-by-construction share of anomalies), and it
streams in batches so a million transactions fit in bounded memory. This module fixes the
order of the draws (products, users, then transactions), so a seed gives the same data in
memory (`generate`) and in MongoDB (`mongo.write_demo_data`).

Run `python -m app.dev.demo --help` for the command line.
"""

from collections.abc import Iterator
from typing import Any

import numpy as np

from app.dev.demo.products import generate_products
from app.dev.demo.spec import DemoDataSpec, resolved
from app.dev.demo.transactions import iter_transaction_batches
from app.dev.demo.users import generate_users


def draw(
    spec: DemoDataSpec, batch_size: int = 5_000
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Iterator[list[dict[str, Any]]]]:
    """Products, users and the transaction batches, drawn in the one order every caller shares."""
    spec = resolved(spec)
    rng = np.random.default_rng(spec.seed)
    products = generate_products(spec, rng)
    users = generate_users(spec, rng)
    return products, users, iter_transaction_batches(spec, products, users, rng, batch_size)


def generate(
    spec: DemoDataSpec,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Everything in memory, for small specs; fresh dicts each call, same seed => same data."""
    products, users, batches = draw(spec)
    return products, users, [t for batch in batches for t in batch]
