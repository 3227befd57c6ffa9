"""Anomaly flags out of season: train on a window, score the weeks after it, seasonal peak included.

    python -m bench.anomaly_season [--trainings 5] [--data journey online_retail demo]

Each data set is trained as the service trains (`ANOMALY_SAMPLE_SIZE` most recent transactions
of a DATA_COLLECTION_DAYS window, each product's medians over the whole window, calibrated on the
window's last ANOMALY_CALIBRATION_DAYS), then scored day by day over the months after it, with
anomalies of each kind planted in 1 % of the scored rows (`bench.anomaly._inject`). Two ways of
scoring, same fit:
- "fixed threshold": the threshold learnt on the training window (the model before calibration);
- "calibrated daily": before each day, the model is recalibrated on the previous
  ANOMALY_CALIBRATION_DAYS days' rows, planted anomalies included (what the daily retraining
  does, except that the service also refits; here the fit stays the first one).
Reported per period: the share of real rows flagged, recall per kind, AUROC and AP; then the
spread of AUROC and AP over several trainings on the same data, for the served (most recent
rows) training and for the former random sample of 50,000 rows.

Data: The Complete Journey (grocery; its November-December at the end of the shifted year), UCI
Online Retail (a gift wholesaler whose sales double into the November peak; needs
`python -m bench.datasets.online_retail --prepare-from GIT_DIR`), and the demo generator.
"""

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from app.anomaly.model import AnomalyModel, train_anomaly_detector
from app.config import Settings
from bench.anomaly import FACTORS, KINDS, _inject, _points, _references
from bench.serving import save_results

SETTINGS = Settings(_env_file=None)
WINDOW_DAYS = SETTINGS.DATA_COLLECTION_DAYS
SAMPLE = SETTINGS.ANOMALY_SAMPLE_SIZE
CALIBRATION_DAYS = SETTINGS.ANOMALY_CALIBRATION_DAYS
BUDGET = SETTINGS.ANOMALY_FLAG_RATE
FORMER_SAMPLE = 50_000  # the former ANOMALY_SAMPLE_SIZE, drawn at random


@dataclass
class Season:
    """One data set: every row (amount, quantity, productId, date), where training ends, the
    periods reported after it, and the catalogue's prices."""

    name: str
    frame: pd.DataFrame
    cut: pd.Timestamp
    periods: dict[str, tuple[pd.Timestamp, pd.Timestamp]]
    catalogue: dict[str, float]


def _frame(transactions: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "amount": transactions["totalPrice"].to_numpy(np.float64),
            "quantity": transactions["quantity"].to_numpy(np.float64),
            "productId": transactions["productId"].astype(str).to_numpy(),
            "date": pd.to_datetime(transactions["transactionDate"], utc=True),
        }
    )
    kept = frame[(frame["quantity"] >= 0) & (frame["amount"] >= 0)]
    return kept.sort_values("date", kind="stable").reset_index(drop=True)


def _catalogue(products: pd.DataFrame) -> dict[str, float]:
    return {
        str(p): float(v)
        for p, v in zip(products["productId"], products["price"], strict=True)
        if pd.notna(v) and v > 0
    }


def _day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def journey() -> Season:
    """Trained up to the shifted 1 September 2017; its November-December is the last month."""
    from bench.datasets.complete_journey import load

    shop = load()
    frame = _frame(shop.transactions)
    end = frame["date"].max().normalize() + pd.Timedelta(days=1)
    # The data set's 2017-11-01 is 61 days before its last day, 2018-01-01.
    peak, cut = end - pd.Timedelta(days=62), end - pd.Timedelta(days=122)
    periods = {
        "weeks 1-2 after": (cut, cut + pd.Timedelta(days=14)),
        "September-October": (cut + pd.Timedelta(days=14), peak),
        "November-December (peak)": (peak, end),
    }
    return Season("The Complete Journey", frame, cut, periods, _catalogue(shop.products))


def online_retail() -> Season:
    """Trained up to 1 September 2011; November to 9 December is the Christmas peak."""
    from bench.datasets import online_retail as data

    shop = data.load()
    frame = _frame(shop.transactions)
    periods = {
        "weeks 1-2 after": (_day("2011-09-01"), _day("2011-09-15")),
        "September-October": (_day("2011-09-15"), _day("2011-11-01")),
        "November-December (peak)": (_day("2011-11-01"), _day("2011-12-10")),
    }
    return Season(
        "UCI Online Retail", frame, _day("2011-09-01"), periods, _catalogue(shop.products)
    )


def demo() -> Season:
    """The demo generator's 210 days: trained on the first 120, scored on the last 90."""
    from datetime import UTC, datetime

    from app.dev.demo.generator import generate
    from app.dev.demo.spec import DemoDataSpec

    end = datetime(2026, 12, 1, tzinfo=UTC)
    spec = DemoDataSpec(days=210, transactions=105_000, users=2_000, products=500, seed=1, end=end)
    products, _, transactions = generate(spec)
    frame = _frame(pd.DataFrame(transactions))
    last = pd.Timestamp(end)
    cut = last - pd.Timedelta(days=90)
    periods = {
        "weeks 1-2 after": (cut, cut + pd.Timedelta(days=14)),
        "weeks 3-13 after": (cut + pd.Timedelta(days=14), last),
    }
    catalogue = {p["productId"]: float(p["price"]) for p in products}
    return Season("demo data", frame, cut, periods, catalogue)


def _training(season: Season, sample: Callable[[pd.DataFrame], pd.DataFrame]) -> AnomalyModel:
    """As the service trains at the cut (module docstring); `sample` picks the rows fitted."""
    window = season.frame[
        (season.frame["date"] >= season.cut - pd.Timedelta(days=WINDOW_DAYS))
        & (season.frame["date"] < season.cut)
    ]
    rows = sample(window)
    recent = rows[rows["date"] >= season.cut - pd.Timedelta(days=CALIBRATION_DAYS)]
    references = _references(window, rows, season.catalogue)
    return train_anomaly_detector(_points(rows), references, "ECOD", BUDGET, recent=_points(recent))


def most_recent(window: pd.DataFrame) -> pd.DataFrame:
    """The served training rows: the window's SAMPLE most recent."""
    return window.iloc[-SAMPLE:]


def scored(season: Season, seed: int) -> pd.DataFrame:
    """The rows after the cut, with anomalies planted in 1 % of them (`kind`)."""
    end = max(stop for _, stop in season.periods.values())
    after = season.frame[(season.frame["date"] >= season.cut) & (season.frame["date"] < end)]
    before = season.frame[season.frame["date"] < season.cut]
    planted = _inject(after.reset_index(drop=True), set(before["productId"]), seed, FACTORS)
    return planted


def score_daily(
    model: AnomalyModel, season: Season, rows: pd.DataFrame, calibrate: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Scores (higher is more anomalous) and flags of `rows`, one day after another; with
    `calibrate`, each day on the model recalibrated on the previous days' rows."""
    history = season.frame[
        (season.frame["date"] >= season.cut - pd.Timedelta(days=CALIBRATION_DAYS))
        & (season.frame["date"] < season.cut)
    ]
    every = pd.concat([history.assign(kind=""), rows], ignore_index=True)
    days = rows["date"].dt.floor("D")
    scores, flags = np.zeros(len(rows)), np.zeros(len(rows), dtype=bool)
    fixed = dataclasses.replace(model, calibration=None)
    for day in days.unique():
        today = np.flatnonzero((days == day).to_numpy())
        served = fixed
        if calibrate:
            since = day - pd.Timedelta(days=CALIBRATION_DAYS)
            recent = every[(every["date"] >= since) & (every["date"] < day)]
            served = model.recalibrated(_points(recent))
        result = served.score(_points(rows.iloc[today]))
        # Raw scores: the day's threshold is no part of the ranking.
        scores[today], flags[today] = served.flag_threshold - result.scores, result.flags
    return scores, flags


def period_figures(
    rows: pd.DataFrame,
    scores: np.ndarray,
    flags: np.ndarray,
    start: pd.Timestamp,
    stop: pd.Timestamp,
) -> dict[str, float]:
    inside = ((rows["date"] >= start) & (rows["date"] < stop)).to_numpy()
    kinds = rows["kind"].to_numpy()[inside]
    labels, s, f = kinds != "", scores[inside], flags[inside]
    figures = {
        "rows": float(inside.sum()),
        "real_flagged": float(f[~labels].mean()),
        "recall": float(f[labels].mean()),
        "auroc": float(roc_auc_score(labels, s)),
        "ap": float(average_precision_score(labels, s)),
    }
    for kind in KINDS:
        if (kinds == kind).any():
            figures[f"recall_{kind}"] = float(f[kinds == kind].mean())
    return figures


def spread(season: Season, rows: pd.DataFrame, trainings: int) -> dict[str, dict[str, float]]:
    """AUROC and AP over the whole scored span (calibrated daily) for `trainings` trainings:
    served (the same rows each time) and the former random sample (a new sample each time)."""
    out: dict[str, dict[str, float]] = {}
    samplers: dict[str, Callable[[int], Callable[[pd.DataFrame], pd.DataFrame]]] = {
        "served (most recent rows)": lambda _seed: most_recent,
        "former ($sample of 50,000)": lambda seed: (
            lambda w: w.sample(min(FORMER_SAMPLE, len(w)), random_state=seed).sort_values(
                "date", kind="stable"
            )
        ),
    }
    labels = (rows["kind"] != "").to_numpy()
    for name, sampler in samplers.items():
        aurocs, aps = [], []
        for seed in range(trainings):
            model = _training(season, sampler(seed))
            scores, _ = score_daily(model, season, rows, calibrate=True)
            aurocs.append(roc_auc_score(labels, scores))
            aps.append(average_precision_score(labels, scores))
        out[name] = {
            "auroc_min": min(aurocs),
            "auroc_max": max(aurocs),
            "ap_min": min(aps),
            "ap_max": max(aps),
            "ap_spread": max(aps) - min(aps),
        }
    return out


def _print(season: Season, results: dict[str, dict[str, dict[str, float]]]) -> None:
    print(f"\n### {season.name}: trained up to {season.cut.date()}")
    head = ["scoring", "period", "rows", "real rows flagged", "recall"]
    head += [f"recall {k}" for k in KINDS] + ["AUROC", "AP"]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for way, periods in results.items():
        for period, r in periods.items():
            cells = [way, period, f"{r['rows']:,.0f}", f"{r['real_flagged']:.2%}"]
            cells += [f"{r['recall']:.2f}"]
            cells += [f"{r[f'recall_{k}']:.2f}" if f"recall_{k}" in r else "-" for k in KINDS]
            cells += [f"{r['auroc']:.3f}", f"{r['ap']:.3f}"]
            print("| " + " | ".join(cells) + " |")


LOADERS: dict[str, Callable[[], Season]] = {
    "journey": journey,
    "online_retail": online_retail,
    "demo": demo,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    parser.add_argument("--trainings", type=int, default=5)
    args = parser.parse_args()
    print(f"budget {BUDGET:g}, window {WINDOW_DAYS} days, sample {SAMPLE:,} most recent rows")
    out: dict[str, object] = {"budget": BUDGET}
    for name in args.data:
        season = LOADERS[name]()
        rows = scored(season, seed=1)
        model = _training(season, most_recent)
        results = {}
        for way, calibrate in (("fixed threshold", False), ("calibrated daily", True)):
            scores, flags = score_daily(model, season, rows, calibrate)
            results[way] = {
                period: period_figures(rows, scores, flags, start, stop)
                for period, (start, stop) in season.periods.items()
            }
        _print(season, results)
        figures: dict[str, object] = {"periods": results}
        if args.trainings > 1:
            spreads = spread(season, rows, args.trainings)
            figures["spread"] = spreads
            print(f"\nOver {args.trainings} trainings on the same data (calibrated daily):")
            for how, s in spreads.items():
                print(
                    f"- {how}: AUROC {s['auroc_min']:.3f}-{s['auroc_max']:.3f}, "
                    f"AP {s['ap_min']:.3f}-{s['ap_max']:.3f} (spread {s['ap_spread']:.3f})"
                )
        out[season.name] = figures
    save_results("anomaly_season", out)


if __name__ == "__main__":
    main()
