"""Benchmark of anomaly detection: quality on labelled anomalies, and scoring speed.

    python -m bench.anomaly [--seeds 1 2 3] [--no-journey] [--service-sizes 100000 1000000]

Quality, in-process, on two kinds of data, each trained on an earlier window and scored on the
next 14 days with anomalies injected into 1 % of that window's real rows (a quarter per kind),
each with a factor drawn uniformly from 5-20 (--factors: a decimal slip is 10):
- quantity: quantity and amount multiplied by a factor (the unit price stays right);
- price_high / price_low: the unit price multiplied / divided by a factor (quantity unchanged);
- unseen_product: price_high on a row whose product was never sold in the training window, so
  the catalogue price is the only reference.
The demo data also keeps the generator's own anomalies (absurd quantities and prices), labelled
by `is_anomalous`. Data sets: the demo generator (several seeds) and The Complete Journey
(`bench.datasets.complete_journey`, real grocery data). Detectors: the original's setup
(IsolationForest on min-max scaled amount and quantity), and the service's ECOD, IsolationForest
and OneClassSVM on the derived features. Reported: AUROC, average precision, precision and
recall at the served threshold, recall per kind, share of real rows flagged, fit seconds.

Speed: in-process scoring throughput (features, score, explanations) for 100, 1,000 and 10,000
points; with --service-sizes, over a service started on that many stored demo transactions,
one anomaly training (database and fit seconds, peak memory, health latency meanwhile) and the
end-to-end latency of `POST /api/v1/anomaly/detect` and `GET /api/v1/anomaly/recent`.
"""

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import MinMaxScaler

from app.anomaly.explain import explain
from app.anomaly.features import Points
from app.anomaly.model import (
    AnomalyModel,
    AnomalyModelType,
    References,
    train_anomaly_detector,
)
from app.dev.demo.generator import generate
from app.dev.demo.spec import DemoDataSpec
from app.dev.demo.transactions import is_anomalous
from bench.serving import save_results

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("quantity", "price_high", "price_low", "unseen_product")
INJECTED_SHARE = 0.01
SAMPLE_SIZE = (
    50_000  # the former ANOMALY_SAMPLE_SIZE (random rows; bench.anomaly_season trains as served)
)
CONTAMINATION = 0.02  # as ANOMALY_FLAG_RATE (set by --contamination)
SCORE_DAYS = 14
FACTORS = (5.0, 20.0)  # how far an injected anomaly is from the real row (set by --factors)


@dataclass
class Split:
    """Training rows and labelled scoring rows of one data set."""

    name: str
    train: pd.DataFrame  # amount, quantity, productId
    score: pd.DataFrame  # amount, quantity, productId, kind ("" for a real row)
    catalogue: dict[str, float]


def _points(frame: pd.DataFrame) -> Points:
    ids = [p if isinstance(p, str) else None for p in frame["productId"]]
    return Points(frame["amount"].to_numpy(np.float64), frame["quantity"].to_numpy(np.float64), ids)


def _references(
    train: pd.DataFrame, sample: pd.DataFrame, catalogue: dict[str, float]
) -> References:
    """Each product's median unit price and quantity, as `product_references` computes them in
    MongoDB, the catalogue's prices, and the sample's median quantity."""
    sold = train[(train["quantity"] > 0) & (train["amount"] >= 0)]
    by_product = (sold["amount"] / sold["quantity"]).groupby(sold["productId"]).median()
    quantities = sold["quantity"].groupby(sold["productId"]).median()
    return References(
        typical_price={str(k): float(v) for k, v in by_product.items() if v > 0},
        catalogue_price=catalogue,
        typical_quantity={str(k): float(v) for k, v in quantities.items() if v > 0},
        overall_quantity=float(sample["quantity"].median()),
    )


def _inject(
    score: pd.DataFrame, train_products: set[str], seed: int, factors: tuple[float, float]
) -> pd.DataFrame:
    """Anomalies of every kind on top of real rows of the scoring window (see the docstring)."""
    rng = np.random.default_rng(seed)
    score = score.copy()
    if "kind" not in score:
        score["kind"] = ""
    real = np.flatnonzero((score["kind"] == "").to_numpy() & (score["quantity"] > 0).to_numpy())
    per_kind = max(1, round(len(score) * INJECTED_SHARE / len(KINDS)))
    unseen = np.flatnonzero(~score["productId"].isin(train_products).to_numpy())
    unseen = np.intersect1d(unseen, real)
    chosen: set[int] = set()
    for kind in KINDS:
        pool = unseen if kind == "unseen_product" else real
        pool = np.setdiff1d(pool, np.fromiter(chosen, dtype=np.int64, count=len(chosen)))
        rows = rng.choice(pool, size=min(per_kind, len(pool)), replace=False)
        chosen.update(rows.tolist())
        factor = rng.uniform(*factors, len(rows))
        amount = score["amount"].to_numpy().copy()
        quantity = score["quantity"].to_numpy().copy()
        if kind == "quantity":
            new_quantity = np.maximum(np.round(quantity[rows] * factor), quantity[rows] + 1)
            amount[rows] = amount[rows] / quantity[rows] * new_quantity
            quantity[rows] = new_quantity
        elif kind == "price_low":
            amount[rows] = amount[rows] / factor
        else:
            amount[rows] = amount[rows] * factor
        score["amount"], score["quantity"] = amount, quantity
        score.iloc[rows, score.columns.get_loc("kind")] = kind
    return score


def demo_split(seed: int, factors: tuple[float, float] = FACTORS) -> Split:
    """120 days of demo data: train on the first 106, score the last 14."""
    end = datetime(2026, 6, 1, tzinfo=UTC)
    spec = DemoDataSpec(
        days=120, transactions=60_000, users=2_000, products=500, seed=seed, end=end
    )
    products, _, transactions = generate(spec)
    price = {p["productId"]: p["price"] for p in products}
    frame = pd.DataFrame(
        {
            "amount": [t["totalPrice"] for t in transactions],
            "quantity": [t["quantity"] for t in transactions],
            "productId": [t["productId"] for t in transactions],
            "date": [t["transactionDate"] for t in transactions],
            "kind": [
                "generator" if is_anomalous(t, price[t["productId"]]) else "" for t in transactions
            ],
        }
    )
    cut = end - timedelta(days=SCORE_DAYS)
    train, score = frame[frame["date"] < cut], frame[frame["date"] >= cut]
    score = _inject(score.reset_index(drop=True), set(train["productId"]), seed, factors)
    return Split(f"demo seed {seed}", train, score, price)


def journey_split(cutoff_days_before_end: int, factors: tuple[float, float] = FACTORS) -> Split:
    """The Complete Journey: train on the 60 days before a cutoff, score the 14 after it."""
    from bench.datasets.complete_journey import load

    shop = load()
    t = shop.transactions
    frame = pd.DataFrame(
        {
            "amount": t["totalPrice"].to_numpy(np.float64),
            "quantity": t["quantity"].to_numpy(np.float64),
            "productId": t["productId"].astype(str).to_numpy(),
            "date": t["transactionDate"],
        }
    )
    frame = frame[(frame["quantity"] >= 0) & (frame["amount"] >= 0)]
    last = frame["date"].max()
    cut = last - pd.Timedelta(days=cutoff_days_before_end)
    train = frame[(frame["date"] >= cut - pd.Timedelta(days=60)) & (frame["date"] < cut)]
    score = frame[(frame["date"] >= cut) & (frame["date"] < cut + pd.Timedelta(days=SCORE_DAYS))]
    catalogue = {
        str(p): float(v)
        for p, v in zip(shop.products["productId"], shop.products["price"], strict=True)
        if pd.notna(v) and v > 0
    }
    train_products = set(train["productId"])
    score = _inject(score.reset_index(drop=True), train_products, cutoff_days_before_end, factors)
    return Split(f"Complete Journey, cutoff {cut.date()}", train, score, catalogue)


def _original(split: Split, sample: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The original service: IsolationForest on min-max scaled amount and quantity."""
    columns = ["amount", "quantity"]
    scaler = MinMaxScaler().fit(sample[columns])
    forest = IsolationForest(n_estimators=100, contamination=0.05, random_state=42)
    forest.fit(scaler.transform(sample[columns]))
    scaled = scaler.transform(split.score[columns])
    return -forest.score_samples(scaled), forest.predict(scaled) < 0


def _served(model: AnomalyModel, split: Split) -> tuple[np.ndarray, np.ndarray]:
    scored = model.score(_points(split.score))
    return -scored.scores, scored.flags


def evaluate(split: Split, contamination: float) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(0)
    sample = split.train.iloc[
        rng.choice(len(split.train), min(SAMPLE_SIZE, len(split.train)), replace=False)
    ]
    references = _references(split.train, sample, split.catalogue)
    labels = (split.score["kind"] != "").to_numpy()
    detectors: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
        "original (IF on amount, quantity)": lambda: _original(split, sample)
    }
    for model_type in ("ECOD", "IsolationForest", "OneClassSVM"):

        def served(kind: AnomalyModelType = model_type) -> tuple[np.ndarray, np.ndarray]:
            model = train_anomaly_detector(_points(sample), references, kind, contamination)
            return _served(model, split)

        detectors[model_type] = served
    results = {}
    for name, run in detectors.items():
        started = time.perf_counter()
        scores, flags = run()
        seconds = time.perf_counter() - started
        kinds = split.score["kind"].to_numpy()
        row = {
            "auroc": roc_auc_score(labels, scores),
            "ap": average_precision_score(labels, scores),
            "precision": float(labels[flags].mean()) if flags.any() else 0.0,
            "recall": float(flags[labels].mean()),
            "real_flagged": float(flags[~labels].mean()),
            "seconds": seconds,
        }
        for kind in (*KINDS, "generator"):
            if (kinds == kind).any():
                row[f"recall_{kind}"] = float(flags[kinds == kind].mean())
        results[name] = row
    return results


def _print_quality(name: str, split: Split, results: dict[str, dict[str, float]]) -> None:
    kinds = [k for k in (*KINDS, "generator") if f"recall_{k}" in next(iter(results.values()))]
    sample = min(SAMPLE_SIZE, len(split.train))
    anomalous = (split.score["kind"] != "").sum()
    print(
        f"\n### {name}: {len(split.train):,} training rows (sample {sample:,}), "
        f"{len(split.score):,} scored, {anomalous:,} anomalous"
    )
    header = ["detector", "AUROC", "AP", "precision", "recall", "real rows flagged"]
    print("| " + " | ".join(header + [f"recall {k}" for k in kinds] + ["s"]) + " |")
    print("|" + "---|" * (len(header) + len(kinds) + 1))
    for detector, r in results.items():
        cells = [
            detector,
            f"{r['auroc']:.3f}",
            f"{r['ap']:.3f}",
            f"{r['precision']:.2f}",
            f"{r['recall']:.2f}",
            f"{r['real_flagged']:.2%}",
            *(f"{r[f'recall_{k}']:.2f}" for k in kinds),
            f"{r['seconds']:.1f}",
        ]
        print("| " + " | ".join(cells) + " |")


def throughput(contamination: float) -> dict[str, float]:
    """In-process rows per second of each detector's scoring (with the features), and the
    milliseconds ECOD takes to score and explain 100, 1,000 and 10,000 points."""
    split = demo_split(1)
    references = _references(split.train, split.train, split.catalogue)
    big = pd.concat([split.score] * (200_000 // len(split.score) + 1)).iloc[:200_000]
    points = _points(big)
    figures: dict[str, float] = {}
    for model_type in ("ECOD", "IsolationForest", "OneClassSVM"):
        model = train_anomaly_detector(_points(split.train), references, model_type, contamination)
        started = time.perf_counter()
        model.score(points)
        figures[f"{model_type} score rows/s"] = len(big) / (time.perf_counter() - started)
        if model_type == "ECOD":
            for size in (100, 1_000, 10_000):
                part = _points(big.iloc[:size])
                started = time.perf_counter()
                for _ in range(10):
                    explain(model, model.score(part))
                elapsed = (time.perf_counter() - started) / 10 * 1000
                figures[f"ECOD score+explain {size:,} points ms"] = elapsed
    return figures


def _poster(url: str, body: dict[str, Any]) -> Callable[[Any], Any]:
    def post(client: Any) -> Any:
        return client.post(url, json=body)

    return post


def service_figures(size: int, workdir: Path) -> dict[str, Any]:
    """Over a service started on `size` stored demo transactions: one anomaly training (database
    and fit seconds, peak memory, health latency meanwhile) and detect latency per batch size."""
    import signal
    import tempfile

    import psutil

    from bench import serving
    from bench.demo_db import embedded_database, seed

    points = demo_split(1).score
    bodies = {
        n: {
            "data_points": [
                {"totalAmount": a, "quantity": q, "productId": p}
                for a, q, p in points[["amount", "quantity", "productId"]]
                .iloc[:n]
                .itertuples(index=False)
            ]
        }
        for n in (100, 1_000, 10_000)
    }
    with embedded_database(workdir / f"db-{size}") as url:
        seed(url, size)
        port = serving.free_port()
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory(dir=workdir) as scratch:
            service = serving.start_service(url, port, Path(scratch))
            try:
                serving.time_to_first_health(base, time.perf_counter())
                serving.wait_trained(base)
                training = serving.train(base, "anomaly", psutil.Process(service.pid))
                detect = {
                    f"detect {n:,} points": serving.latency(
                        _poster(f"{base}/api/v1/anomaly/detect", body), 20
                    )
                    for n, body in bodies.items()
                }
                recent = serving.latency(
                    lambda c: c.get(f"{base}/api/v1/anomaly/recent?days=7&limit=50"), times=5
                )
            finally:
                service.send_signal(signal.SIGINT)
                service.wait(120)
    return {"training": training, **detect, "recent 7 days": recent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--no-journey", action="store_true")
    parser.add_argument("--factors", type=float, nargs=2, default=list(FACTORS))
    parser.add_argument("--contamination", type=float, default=CONTAMINATION)
    parser.add_argument(
        "--service-sizes",
        type=int,
        nargs="*",
        default=[],
        help="stored demo transactions to measure the service over, e.g. 100000 1000000",
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    factors, contamination = (args.factors[0], args.factors[1]), args.contamination
    print(f"factors {factors[0]:g}-{factors[1]:g}, flagged share {contamination:g} in training")
    out: dict[str, Any] = {"factors": factors, "contamination": contamination}
    for size in args.service_sizes:
        figures = service_figures(size, args.workdir)
        out[f"service {size}"] = figures
        print(f"\n### Service over {size:,} stored transactions")
        print(json.dumps(figures, indent=2))
    splits = [demo_split(seed, factors) for seed in args.seeds]
    if not args.no_journey:
        splits += [journey_split(days, factors) for days in (120, 40)]
    for split in splits:
        results = evaluate(split, contamination)
        out[split.name] = results
        _print_quality(split.name, split, results)
    speed = throughput(contamination)
    out["throughput"] = speed
    print("\n### In-process speed")
    for name, value in speed.items():
        print(f"- {name}: {value:,.1f}")
    save_results("anomaly", out)


if __name__ == "__main__":
    main()
