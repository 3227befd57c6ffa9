"""Benchmark of recommendations: held-out quality of every model and of popularity, and speed.

    python -m bench.recommend [--seeds 1 2 3] [--no-journey] [--no-scale] [--no-training]
        [--original] [--http-size 200000]

Quality, in-process, as the service's training computes it (`train_recommender`, `auto`): a
window of DATA_COLLECTION_DAYS (90) whose last RECOMMEND_EVAL_DAYS (14) are held out; for the
users active on both sides, precision, recall, NDCG and hit rate at 10 on the products they
bought in the hold-out and not before, and catalogue coverage, for each candidate (SVD on the
binary and on the log-scaled matrix, ALS, EASE when it fits RECOMMEND_MAX_MODEL_MB) and for
recent popularity (distinct buyers over the last 28 days before the cut-off). Data: the demo
generator (several seeds) and The Complete Journey (real grocery purchases; two windows, and
one with 28 days held out, as measured outside the project).

HTTP, with --http-size N: N demo transactions written into a SecantusDB child process (kept in
bench/.data), the service as a child process, and 32 concurrent callers in this process, each
alternating a recommendation (three in four for a known user) and /api/v1/health/: p50, p99
and errors of both, for 20 s idle, then while the recommendation model trains; before that, one
training with a single health client (as bench/service.py measures trainings).

Scale: synthetic purchases of 100,000 users over 10,000 products, 1,000,000 (user, product)
pairs (item popularity Zipf-like, each user drawn to one of 50 tastes): for each model type, the
training's wall time and peak memory (a fresh child process each; not with --no-training), and,
for each scorer fitted on the whole window (SVD-binary, ALS, EASE, EASE-top), one user's
scoring in process against its floor: the bare product with a top 10, the model's per-user path
(scores, filters, top 10 by partial sort), and a request's whole work (with catalogue details),
back to back for each of 2,000 users: p50 and p99.

With --original, for reference: the original's per-request rebuild of the whole matrix at
sizes where it still fits in memory.
"""

import argparse
import asyncio
import multiprocessing
import resource
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import httpx
import numpy as np
import pandas as pd
import psutil

from app.recommend import scorers
from app.recommend.catalogue import Catalogue
from app.recommend.evaluation import POPULAR
from app.recommend.inputs import Config
from app.recommend.model import (
    Factors,
    ItemWeights,
    ModelType,
    Purchases,
    Recommender,
    train_recommender,
)
from app.recommend.purchases import pair_matrix
from app.recommend.scorers import Candidate
from bench.serving import (
    ROOT,
    percentiles,
    save_results,
    train,
    trained_service,
)

WINDOW_DAYS = 90
EVAL_DAYS = 14
COMPONENTS = 50
BUDGET_MB = 512
MIN_ITEMS = 5
METRICS = ("precision_at_10", "recall_at_10", "ndcg_at_10", "hit_rate_at_10", "coverage")
_DAY = 86_400.0


def _config(model_type: ModelType = "auto") -> Config:
    return Config(model_type, COMPONENTS, BUDGET_MB, MIN_ITEMS)


def _window(events: pd.DataFrame, end: float, days: int, eval_days: int) -> Purchases:
    """The purchases of the `days` before `end`, the last `eval_days` held out."""
    inside = events[(events["date"] >= end - days * _DAY) & (events["date"] < end)]
    return Purchases.from_events(inside, cutoff=end - eval_days * _DAY, end=end)


def demo_events(seed: int) -> tuple[pd.DataFrame, float]:
    """120 days of demo sales (failed and returned transactions left out)."""
    from app.dev.demo.generator import generate
    from app.dev.demo.spec import DemoDataSpec

    end = datetime(2026, 6, 1, tzinfo=UTC)
    spec = DemoDataSpec(
        days=120, transactions=60_000, users=2_000, products=500, seed=seed, end=end
    )
    _, _, transactions = generate(spec)
    sales = [t for t in transactions if t["status"] not in ("failed", "returned")]
    frame = pd.DataFrame(
        {
            "userId": [t["userId"] for t in sales],
            "productId": [t["productId"] for t in sales],
            "quantity": [float(t["quantity"]) for t in sales],
            "date": [t["transactionDate"].timestamp() for t in sales],
        }
    )
    return frame, end.timestamp()


def journey_events() -> tuple[pd.DataFrame, float]:
    from bench.datasets.complete_journey import load

    t = load(datetime(2026, 11, 26, tzinfo=UTC).date()).transactions
    frame = pd.DataFrame(
        {
            "userId": t["userId"].to_numpy(),
            "productId": t["productId"].to_numpy(),
            "quantity": t["quantity"].to_numpy(np.float64),
            "date": t["transactionDate"].astype("int64").to_numpy() / 1e9,
        }
    )
    return frame, float(frame["date"].max()) + 1.0


def quality(name: str, purchases: Purchases) -> dict[str, Any]:
    started = time.perf_counter()
    model = train_recommender(purchases, _config())
    seconds = time.perf_counter() - started
    table = model.evaluation
    served = table[model.served]["ndcg_at_10"]
    popular = table[POPULAR]["ndcg_at_10"]
    print(
        f"\n#### {name}: {len(purchases.user_ids):,} users, {len(purchases.item_ids):,} "
        f"products, {len(purchases.users):,} pairs; "
        f"{int(table[POPULAR]['users_evaluated']):,} users evaluated; served {model.served}, "
        f"NDCG {served / popular:.2f}x popularity "
        f"(training with evaluation {seconds:.1f} s)\n"
    )
    print("| model | " + " | ".join(METRICS) + " |")
    print("|---" * (len(METRICS) + 1) + "|")
    for candidate, row in table.items():
        mark = " (served)" if candidate == model.served else ""
        print(f"| {candidate}{mark} | " + " | ".join(f"{row[m]:.4f}" for m in METRICS) + " |")
    return {
        "name": name,
        "served": model.served,
        "ratio": served / popular,
        "seconds": seconds,
        "table": table,
    }


def synthetic(
    users: int = 100_000, items: int = 10_000, pairs: int = 1_000_000, seed: int = 0
) -> Purchases:
    """Pairs with Zipf-like item popularity, each user leaning to one of 50 tastes."""
    rng = np.random.default_rng(seed)
    tastes = 50
    popularity = 1.0 / np.arange(1, items + 1) ** 0.8
    taste_of_item = rng.integers(0, tastes, items)
    user = rng.integers(0, users, pairs * 11 // 10)
    taste = user % tastes
    by_taste = rng.random(len(user)) < 0.5
    anywhere = rng.choice(items, len(user), p=popularity / popularity.sum())
    members = [np.flatnonzero(taste_of_item == t) for t in range(tastes)]
    within = np.array([members[t][rng.integers(len(members[t]))] for t in taste[by_taste]])
    item = anywhere.copy()
    item[by_taste] = within
    codes = np.unique(user.astype(np.int64) * items + item)[:pairs]
    rng.shuffle(codes)
    end = 100 * _DAY
    last = rng.uniform(end - WINDOW_DAYS * _DAY, end, len(codes))
    cutoff = end - EVAL_DAYS * _DAY
    return Purchases(
        user_ids=np.array([f"u{i}" for i in range(users)], dtype=object),
        item_ids=np.array([f"p{i}" for i in range(items)], dtype=object),
        users=(codes // items).astype(np.int32),
        items=(codes % items).astype(np.int32),
        quantity=np.ones(len(codes), dtype=np.float32),
        quantity_before=(last < cutoff).astype(np.float32),
        last=last,
        last_before=np.where(last < cutoff, last, np.nan),
        bought_before=last < cutoff,
        cutoff=cutoff,
        end=end,
    )


def _train_in_child(model_type: ModelType, queue: Any) -> None:
    purchases = synthetic()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    model = train_recommender(purchases, _config(model_type))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put(
        {
            "model_type": model_type,
            "served": model.served,
            "fit_s": round(seconds, 1),
            "data_mb": round(baseline / 1024),
            "peak_mb": round(peak / 1024),
            "ndcg": {k: v["ndcg_at_10"] for k, v in model.evaluation.items()},
        }
    )


def training_scale(model_types: list[ModelType]) -> list[dict[str, Any]]:
    """Each model type trained in a fresh process: its peak RSS is the training's."""
    context = multiprocessing.get_context("spawn")
    results = []
    for model_type in model_types:
        queue = context.Queue()
        process = context.Process(target=_train_in_child, args=(model_type, queue))
        process.start()
        results.append(queue.get())
        process.join()
        print(results[-1])
    return results


def served_by(purchases: Purchases, candidate: Candidate) -> Recommender:
    """A recommender serving `candidate` fitted on the whole window, without the evaluation:
    what a request reads is the same as after a training."""
    sold = ~np.isnan(purchases.last)
    seen = scorers.weighted(pair_matrix(purchases, purchases.quantity, sold), candidate)
    return Recommender(
        user_ids=purchases.user_ids,
        item_ids=purchases.item_ids,
        seen=seen,
        older=pair_matrix(purchases, np.ones(len(sold), dtype=np.float32), ~sold),
        scorer=scorers.fit(candidate, seen, _config()),
        popularity=np.zeros(len(purchases.item_ids)),
        served=candidate,
        components=COMPONENTS,
        min_items=MIN_ITEMS,
        trained_until=purchases.end,
        evaluation={},
    )


def _bare(scorer: scorers.Scorer, user: int) -> np.ndarray:
    """The floor: the user's row times the item matrix (EASE: the weighted sum of the rows of
    the user's products, read from the CSR arrays; factors: user factors times item factors),
    then a top 10 by partial sort; no filter, no copy, no catalogue."""
    if isinstance(scorer, ItemWeights):
        rows = scorer.histories
        start, stop = rows.indptr[user], rows.indptr[user + 1]
        scores = rows.data[start:stop] @ scorer.weights[rows.indices[start:stop]]
    else:
        assert isinstance(scorer, Factors)
        scores = scorer.item @ scorer.user[user]
    best = np.argpartition(scores, len(scores) - 10)[-10:]
    ranked: np.ndarray = best[np.argsort(-scores[best])]
    return ranked


def scoring_latency(model: Recommender, samples: int = 2_000) -> dict[str, dict[str, float]]:
    """For each of `samples` users (covered by the scorer), back to back: the bare product with
    a top 10 (`_bare`), the model's per-user path (`Recommender.recommend`: scores, the
    catalogue's and the user's filters, the top 10), and a request's whole work in process
    (the allowed mask, the user's bought products, the path, the catalogue's details)."""
    rng = np.random.default_rng(1)
    catalogue = Catalogue.build(
        model.item_ids,
        {
            str(p): {"productName": f"Product {p}", "category": f"c{i % 10}", "price": 9.5,
                     "stock": 0 if i % 50 == 0 else 5}
            for i, p in enumerate(model.item_ids)
        },
    )  # fmt: skip
    empty = np.array([], dtype=np.int64)
    users = [int(u) for u in rng.integers(0, len(model.user_ids), samples * 2)]
    users = [u for u in users if model.scorer.covers(u)][:samples]
    timings: dict[str, list[float]] = {"bare": [], "path": [], "request": []}
    for user in users:
        started = time.perf_counter()
        _bare(model.scorer, user)
        timings["bare"].append((time.perf_counter() - started) * 1000)
        allowed, bought = catalogue.available, model.bought(user)
        started = time.perf_counter()
        model.recommend(user, 10, allowed, bought)
        timings["path"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        shown = catalogue.allowed(None)
        assert shown is not None
        bought = np.concatenate([model.bought(user), empty])
        ranked = model.recommend(user, 10, shown, bought)
        [catalogue.describe(item) for item, _ in ranked]
        timings["request"].append((time.perf_counter() - started) * 1000)
    result = {name: percentiles(values) for name, values in timings.items()}
    for name in ("path", "request"):
        for q in ("p50", "p99"):
            result[name][f"{q}_vs_bare"] = round(result[name][q] / result["bare"][q], 2)
    return result


async def _clients(base: str, users: list[str], clients: int, until: Callable[[], bool]) -> dict:
    """`clients` concurrent callers, each alternating a recommendation (three in four for a
    known user, else an unknown one) and /api/v1/health/, until `until()`."""
    samples: dict[str, list[float]] = {"recommend": [], "health": []}
    errors: dict[str, int] = {"recommend": 0, "health": 0}
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:

        async def caller(number: int) -> None:
            rng = np.random.default_rng(number)
            while not until():
                for kind in ("recommend", "health"):
                    if kind == "health":
                        path = "/api/v1/health/"
                    else:
                        user = users[rng.integers(len(users))] if rng.random() < 0.75 else "new"
                        path = f"/api/v1/recommend/user/{user}?num_recommendations=10"
                    started = time.perf_counter()
                    try:
                        failed = (await http.get(path)).status_code != 200
                    except httpx.HTTPError:  # counted, not raised: a benchmark reports it
                        failed = True
                    samples[kind].append((time.perf_counter() - started) * 1000)
                    errors[kind] += failed

        await asyncio.gather(*(caller(n) for n in range(clients)))
    return {kind: {**percentiles(samples[kind]), "errors": errors[kind]} for kind in samples}


def http_latency(size: int, clients: int = 32, seconds: float = 20.0) -> dict[str, Any]:
    """The service as a child process over `size` stored demo transactions: one recommendation
    training with one client calling /api/v1/health/ meanwhile (database and fit seconds, peak
    memory, health latency), then recommendation and health latency from `clients` concurrent
    callers in this process, idle and while the recommendation model trains again."""
    from pymongo import MongoClient

    from bench.demo_db import DATABASE, embedded_database, seed

    workdir = ROOT / "bench" / ".data"
    with embedded_database(workdir / f"db-{size}") as url:
        seed(url, size)
        mongo: MongoClient[dict[str, Any]]
        with MongoClient(url) as mongo:
            users = [str(u) for u in mongo[DATABASE].transactions.distinct("userId")][:5_000]
        with trained_service(url, workdir) as (base, service):
            alone = train(base, "recommend", psutil.Process(service.pid))
            print("training with one health client:", alone)
            deadline = time.monotonic() + seconds
            idle = asyncio.run(_clients(base, users, clients, lambda: time.monotonic() > deadline))
            training = threading.Thread(
                target=httpx.post,
                args=(f"{base}/api/v1/recommend/train",),
                kwargs={"timeout": 1800},
            )
            training.start()
            busy = asyncio.run(_clients(base, users, clients, lambda: not training.is_alive()))
            training.join()
    result = {
        "transactions": size,
        "training_one_health_client": alone,
        "clients": clients,
        "idle": idle,
        "while_training": busy,
    }
    print(result)
    return result


ORIGINAL_SIZES = ((2_000, 500), (10_000, 2_000), (40_000, 2_000), (20_000, 10_000))


def original_per_request(users: int, items: int, requests: int = 5) -> dict[str, Any]:
    """For reference, the original's way to answer one user: the whole users x items matrix
    rebuilt densely from its SVD (transform of every user, times the components) at every
    request. Fitted once on synthetic purchases (10 a user); seconds per request, median."""
    from scipy.sparse import csr_matrix
    from sklearn.decomposition import TruncatedSVD

    purchases = synthetic(users, items, users * 10)
    dense = np.zeros((users, items))
    dense[purchases.users, purchases.items] = purchases.quantity
    svd = TruncatedSVD(n_components=COMPONENTS, random_state=42).fit(csr_matrix(dense))
    timings = []
    for user in np.random.default_rng(2).integers(0, users, requests):
        started = time.perf_counter()
        reconstructed = svd.transform(csr_matrix(dense)) @ svd.components_
        np.argsort(-reconstructed[user])[:10]
        timings.append(time.perf_counter() - started)
    result = {
        "users": users,
        "items": items,
        "dense_matrices_mb": round(2 * dense.nbytes / 2**20),
        "seconds_per_request": round(float(np.median(timings)), 3),
    }
    print(result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.recommend")
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument("--no-journey", action="store_true")
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument(
        "--no-training", action="store_true", help="at scale, the per-user scoring only"
    )
    parser.add_argument(
        "--scorers",
        nargs="*",
        choices=get_args(Candidate),
        default=["SVD-binary", "ALS", "EASE", "EASE-top"],
        help="the scorers whose per-user path is timed at scale",
    )
    parser.add_argument("--original", action="store_true", help="the original's per-request cost")
    parser.add_argument(
        "--http-size", type=int, help="stored demo transactions for the 32-client HTTP run"
    )
    args = parser.parse_args()
    results: dict[str, Any] = {"quality": [], "training": [], "scoring": {}}
    print("## Quality (90-day window, last 14 days held out)")
    for seed in args.seeds:
        events, end = demo_events(seed)
        purchases = _window(events, end, WINDOW_DAYS, EVAL_DAYS)
        results["quality"].append(quality(f"demo seed {seed}", purchases))
    if not args.no_journey:
        events, end = journey_events()
        for days_before_end in (0, 120):
            cut_end = end - days_before_end * _DAY
            day = (datetime.fromtimestamp(cut_end, UTC) - timedelta(days=1)).date()
            results["quality"].append(
                quality(
                    f"Complete Journey, window ending {day}",
                    _window(events, cut_end, WINDOW_DAYS, EVAL_DAYS),
                )
            )
        results["quality"].append(
            quality(
                "Complete Journey, 90 days to learn, 28 held out",
                _window(events, end, WINDOW_DAYS + 28, 28),
            )
        )
    if not args.no_scale:
        print("\n## Scale: 100,000 users x 10,000 products, 1,000,000 pairs")
        if not args.no_training:
            results["training"] = training_scale(["SVD", "ALS", "EASE", "auto"])
        purchases = synthetic()
        for candidate in args.scorers:
            results["scoring"][candidate] = scoring_latency(served_by(purchases, candidate))
            print(candidate, results["scoring"][candidate])
    if args.original:
        print("\n## The original: the whole matrix rebuilt at each request")
        results["original"] = [original_per_request(*size) for size in ORIGINAL_SIZES]
    if args.http_size:
        results["http"] = http_latency(args.http_size)
    print(f"\nwritten to {save_results('recommend', results)}")


if __name__ == "__main__":
    main()
