"""Benchmark of the forecasting candidates and the served model, out of sample.

    python -m bench.forecast [--seeds 1 2 3] [--no-journey] [--days 400] [--histories 90 300]

For each daily sales series (demo data of several seeds; The Complete Journey's total and its
three largest departments), at eight cutoffs 14 days apart, the last 28 days before the series'
end, with 90 days of history (and a longer one where the data has it): every candidate is
fitted on the history and forecasts the 28 days after the cutoff; reported are MASE at 7 and
28 days (scaled by the history's seasonal-naive error) and the share of actual days inside each
candidate's 80 % band (calibrated, as in the service, on the history's own backtest), averaged
over the cutoffs. Holiday cutoffs (Thanksgiving to New Year in the window) are reported apart.
Besides the served ensemble, other medians of candidates (ALTERNATIVES) are scored the same
way, their bands calibrated on the median of their members' backtest forecasts; then the time
of one fit and 30-day forecast of each candidate, and of a whole training, on 90 days and on
3 years of demo data, and the time to import statsmodels.
"""

import argparse
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.dev.demo.generator import generate
from app.dev.demo.spec import DemoDataSpec
from app.forecast import backtest
from app.forecast.candidates import ENSEMBLE_MEMBERS, FITTERS, CandidateName, Fitted, Median, fit
from app.forecast.model import ForecastModel, train_forecaster
from bench.serving import as_worker, save_results

ROOT = Path(__file__).resolve().parents[1]
NAMES: list[CandidateName] = [*FITTERS, "ensemble"]
WEEKDAY_BASELINES: tuple[CandidateName, ...] = (
    "seasonal_naive",
    "weekday_mean_28",
    "weekday_mean_90",
)
# Medians that could serve instead of `ensemble`, scored beside it to choose its members.
ALTERNATIVES: dict[str, tuple[CandidateName, ...]] = {
    "median without ETS": (*WEEKDAY_BASELINES, "RandomForestRegressor"),
    "median + ARIMA": (*WEEKDAY_BASELINES, "RandomForestRegressor", "ETS", "ARIMA"),
    "median without RF": (*WEEKDAY_BASELINES, "ETS"),
    "median, ARIMA for RF": (*WEEKDAY_BASELINES, "ETS", "ARIMA"),
}
TEST_DAYS = 28
CUTOFFS = 8
SPACING = 14
NON_SALES = {"failed", "returned"}


def demo_series(seed: int, days: int) -> pd.Series:
    return _dense(demo_sales(seed, days))


def demo_sales(seed: int, days: int) -> pd.DataFrame:
    """The demo's sales (not failed or returned) as rows of day, category and sales."""
    spec = DemoDataSpec(
        days=days,
        transactions=days * 400,
        users=3_000,
        products=500,
        seed=seed,
        end=datetime(2026, 6, 1, tzinfo=UTC),
    )
    products, _, transactions = generate(spec)
    category = {p["productId"]: p["category"] for p in products}
    frame = pd.DataFrame(
        {
            "day": [t["transactionDate"].date() for t in transactions],
            "category": [category[t["productId"]] for t in transactions],
            "sales": [t["totalPrice"] for t in transactions],
            "status": [t["status"] for t in transactions],
        }
    )
    return frame[~frame["status"].isin(NON_SALES)]


def _dense(frame: pd.DataFrame) -> pd.Series:
    daily = frame.groupby("day")["sales"].sum()
    daily.index = pd.DatetimeIndex(daily.index)
    days = pd.date_range(daily.index.min(), daily.index.max(), freq="D")
    return daily.reindex(days, fill_value=0.0)


JOURNEY_LAST_FULL_DAY = pd.Timestamp("2017-12-31")  # in the data's own calendar


def journey_sales() -> pd.DataFrame:
    """The Complete Journey's line items as rows of day, category (department) and sales."""
    from bench.datasets.complete_journey import load

    shop = load()
    t = shop.transactions.merge(shop.products[["productId", "category"]], on="productId")
    return pd.DataFrame(
        {"day": t["transactionDate"].dt.date, "sales": t["totalPrice"], "category": t["category"]}
    )


def journey_series() -> dict[str, pd.Series]:
    """Total daily sales and the three largest departments; the last, partial day dropped."""
    frame = journey_sales()
    out = {"Complete Journey total": _dense(frame).iloc[:-1]}
    for category in frame.groupby("category")["sales"].sum().nlargest(3).index:
        out[f"Complete Journey {category}"] = _dense(frame[frame["category"] == category]).iloc[:-1]
    return out


def _holiday(start: pd.Timestamp, end: pd.Timestamp) -> bool:
    """Whether [start, end) touches Thanksgiving to New Year's Day (US), the year's swing."""
    for year in {start.year - 1, start.year, end.year}:
        november = pd.Timestamp(year=year, month=11, day=1)
        thanksgiving = november + pd.Timedelta(days=(3 - november.day_of_week) % 7 + 21)
        if start < pd.Timestamp(year=year + 1, month=1, day=2) and end > thanksgiving:
            return True
    return False


def evaluate(series: pd.Series, history_days: int, shift: pd.Timedelta) -> list[dict[str, Any]]:
    """One row per cutoff: MASE h7/h28 and 80 % coverage of every candidate and every median.
    `shift` takes the series' dates back to their own calendar, where the holidays are."""
    rows = []
    for k in range(CUTOFFS):
        cut = len(series) - TEST_DAYS - SPACING * k
        if cut - history_days < 0:
            break
        history = series.iloc[cut - history_days : cut]
        actual = series.to_numpy()[cut : cut + TEST_DAYS]
        scale = _scale(history)
        tested = backtest.run(history, NAMES)
        fitted: dict[CandidateName, Fitted] = {
            name: fit(name, history) for name in tested.errors if name != "ensemble"
        }
        served: dict[str, tuple[Fitted, list[np.ndarray]]] = {
            name: (fitted[name], tested.errors_by_week(name)) for name in fitted
        }
        medians = {"ensemble": ENSEMBLE_MEMBERS, **ALTERNATIVES}
        for label, members in medians.items():
            shapes = {tested.errors[m].shape if m in tested.errors else None for m in members}
            if len(shapes) == 1 and None not in shapes:
                median = Median([fitted[m] for m in members])
                served[label] = (median, _median_errors(tested, members))
        row: dict[str, Any] = {
            "cutoff": str(series.index[cut].date()),
            "holiday": _holiday(
                series.index[cut] - shift, series.index[cut] - shift + pd.Timedelta(days=TEST_DAYS)
            ),
        }
        for label, (model_fit, errors_by_week) in served.items():
            model = ForecastModel(
                model_type="ensemble",
                served="ensemble",
                fitted=model_fit,
                last_day=history.index[-1],
                errors_by_week=errors_by_week,
                backtest={},
                scale=backtest.level(history.to_numpy()),  # the errors are relative to it
            )
            forecast = model.forecast(history.index[-1] + pd.Timedelta(days=1), TEST_DAYS, 80)
            error = np.abs(actual - forecast["predicted"].to_numpy())
            inside = (actual >= forecast["lower"].to_numpy()) & (
                actual <= forecast["upper"].to_numpy()
            )
            row[label] = {
                "mase_h7": float(error[:7].mean() / scale),
                "mase_h28": float(error.mean() / scale),
                "coverage80": float(inside.mean()),
            }
        rows.append(row)
    return rows


def _median_errors(
    tested: backtest.Backtest, members: tuple[CandidateName, ...]
) -> list[np.ndarray]:
    """The backtest errors of the median of `members`, from each member's backtest forecasts
    (actual minus error), grouped by week ahead as the service groups its own."""
    actual = tested.actuals[members[0]]
    median = np.median([actual - tested.errors[m] for m in members], axis=0)
    combined = backtest.Backtest(
        errors={"ensemble": actual - median},
        actuals={"ensemble": actual},
        scales={"ensemble": tested.scales[members[0]]},
        levels=tested.levels,
    )
    return combined.errors_by_week("ensemble")


WEEK_LAG = 7


def _scale(history: pd.Series) -> float:
    values = history.to_numpy()
    return float(np.abs(values[WEEK_LAG:] - values[:-WEEK_LAG]).mean()) or 1.0


def _summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for name, scores in row.items():
            if isinstance(scores, dict):
                for metric, value in scores.items():
                    sums[name][metric].append(value)
    return {
        name: {metric: float(np.mean(values)) for metric, values in metrics.items()}
        for name, metrics in sums.items()
    }


def _print(title: str, all_rows: list[dict[str, Any]]) -> None:
    for label, rows in (
        ("", [r for r in all_rows if not r["holiday"]]),
        (", holiday cutoffs", [r for r in all_rows if r["holiday"]]),
    ):
        _print_table(title + label, rows)


def _print_table(title: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    summary = _summary(rows)
    print(f"\n#### {title}: {len(rows)} cutoffs ({rows[-1]['cutoff']} to {rows[0]['cutoff']})")
    print("| candidate | MASE h7 | MASE h28 | 80 % coverage |")
    print("|---|---|---|---|")
    for name, m in summary.items():
        print(f"| {name} | {m['mase_h7']:.3f} | {m['mase_h28']:.3f} | {m['coverage80']:.2f} |")


def print_medians(results: dict[str, list[dict[str, Any]]]) -> None:
    """The served ensemble beside the other medians on every series and history, ordinary and
    holiday cutoffs apart, then the mean over the series: MASE h7 / MASE h28 / 80 % coverage."""
    labels = ["ensemble", *ALTERNATIVES]
    for kind, holiday in (("ordinary", False), ("holiday", True)):
        summaries = {
            title: _summary([row for row in rows if row["holiday"] == holiday])
            for title, rows in results.items()
        }
        summaries = {title: summary for title, summary in summaries.items() if summary}
        if not summaries:
            continue
        print(f"\n#### Medians, {kind} cutoffs: MASE h7 / MASE h28 / 80 % coverage")
        print("| series | " + " | ".join(labels) + " |")
        print("|---" * (len(labels) + 1) + "|")
        for title, summary in summaries.items():
            print(f"| {title} | " + " | ".join(_cell(summary[label]) for label in labels) + " |")
        mean = {
            label: {
                metric: float(np.mean([summary[label][metric] for summary in summaries.values()]))
                for metric in ("mase_h7", "mase_h28", "coverage80")
            }
            for label in labels
        }
        print("| mean | " + " | ".join(_cell(mean[label]) for label in labels) + " |")


def _cell(scores: dict[str, float]) -> str:
    return f"{scores['mase_h7']:.3f} / {scores['mase_h28']:.3f} / {scores['coverage80']:.2f}"


def fit_times(seed: int) -> dict[str, dict[str, float]]:
    """Seconds of one fit plus a 30-day forecast of each candidate (median of three), and of a
    whole training of the ensemble (every candidate backtested), on 90 days and on 3 years of
    demo data."""
    long = demo_series(seed, 3 * 365)
    fit("ETS", long)  # imports statsmodels before the timing
    out: dict[str, dict[str, float]] = defaultdict(dict)
    print("\n#### Seconds per fit and 30-day forecast (median of 3), demo data")
    print("| candidate | 90 days | 3 years |")
    print("|---|---|---|")
    for name in [*FITTERS, "training (every candidate backtested)"]:
        for days in (90, len(long)):
            history = long.iloc[-days:]
            took = []
            for _ in range(3 if name in FITTERS else 1):
                started = time.perf_counter()
                if name in FITTERS:
                    fit(name, history).predict(backtest.HORIZON)
                else:
                    train_forecaster(history, "ensemble")
                took.append(time.perf_counter() - started)
            out[name][f"{days} days"] = statistics.median(took)
        times = out[name]
        print(f"| {name} | {times['90 days']:.3f} | {times[f'{len(long)} days']:.3f} |")
    return out


def statsmodels_import_seconds() -> float:
    """Import time of what the ETS and ARIMA fits import, in a fresh process that has already
    imported what the other candidates need (pandas, scikit-learn, SciPy)."""
    code = (
        "import time, pandas, sklearn.ensemble, sklearn.linear_model; t = time.perf_counter(); "
        "import statsmodels.tsa.holtwinters, statsmodels.tsa.statespace.sarimax; "
        "print(time.perf_counter() - t)"
    )
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
        for _ in range(3)
    ]
    seconds = statistics.median(runs)
    print(f"\nstatsmodels import (median of 3): {seconds:.2f} s")
    return seconds


def main() -> None:
    as_worker("bench.forecast")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--no-journey", action="store_true")
    parser.add_argument("--timing-only", action="store_true")
    parser.add_argument("--days", type=int, default=400, help="length of the demo series")
    parser.add_argument("--histories", type=int, nargs="+", default=[90, 300])
    args = parser.parse_args()
    out: dict[str, Any] = {
        "statsmodels_import_seconds": statsmodels_import_seconds(),
        "fit_seconds": fit_times(args.seeds[0]),
    }
    if args.timing_only:
        save_results("forecast-timing", out)
        return
    quality: dict[str, list[dict[str, Any]]] = {}
    series: dict[str, pd.Series] = {}
    for seed in args.seeds:
        series[f"demo seed {seed}, {args.days} days"] = demo_series(seed, args.days)
    if not args.no_journey:
        series.update(journey_series())
    for name, values in series.items():
        for history_days in args.histories:
            started = time.perf_counter()
            shift = (
                values.index[-1] - JOURNEY_LAST_FULL_DAY
                if name.startswith("Complete Journey")
                else pd.Timedelta(0)
            )
            rows = evaluate(values, history_days, shift)
            title = f"{name}, {history_days}-day histories"
            quality[title] = rows
            _print(title, rows)
            print(f"({time.perf_counter() - started:.0f} s)")
    print_medians(quality)
    save_results("forecast", {**out, **quality})


if __name__ == "__main__":
    main()
