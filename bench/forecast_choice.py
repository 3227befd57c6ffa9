"""How `auto` chooses the served forecast, and how its intervals hold, on series that grow,
shrink and shift.

    python -m bench.forecast_choice [--seeds 1 2] [--no-journey] [--cutoffs 4] [--history 90]

For each base series (demo data; The Complete Journey's total and three largest departments)
and its stress variants (a trend of +30 % and -30 % a quarter, a level shift of -40 % and +40 %
in the middle of each history; made for the demo seed and the Journey's total), at `--cutoffs`
cutoffs 14 days apart ending 28 days before the series' end, with `--history` days of history:
the service's backtest of `auto`'s pool is run on the history, each combination rule of
`app.forecast.choice.RULES` picks its methods from it, and the picks, fitted on the history,
forecast the 28 days after the cutoff. Reported per group: MASE h7/h28 (scaled by the
history's seasonal-naive error), WAPE h28, bias h28 and 80 % / 95 % coverage (bands as the
service builds them: backtest errors relative to each origin's level), for each rule, for
seasonal naive, every pool method alone, and the fixed ensemble served before (point only).
"""

import argparse
import time
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from app.forecast import backtest, choice
from app.forecast.candidates import FITTERS, fit
from app.forecast.model import ForecastModel
from bench.forecast import demo_series, journey_series
from bench.serving import as_worker, save_results

TEST_DAYS = 28
SPACING = 14
QUARTER = 91
STRESS: dict[str, Any] = {  # factor of day i of a window whose history has 2 * half days
    "trend +30 %/quarter": lambda i, _: 1.3 ** (i / QUARTER),
    "trend -30 %/quarter": lambda i, _: 0.7 ** (i / QUARTER),
    "shift -40 %": lambda i, half: np.where(i >= half, 0.6, 1.0),
    "shift +40 %": lambda i, half: np.where(i >= half, 1.4, 1.0),
}


def _band_scores(model: ForecastModel, actual: np.ndarray, start: pd.Timestamp) -> dict[str, float]:
    out = {}
    for level in (80, 95):
        band = model.forecast(start, TEST_DAYS, level)
        inside = (actual >= band["lower"].to_numpy()) & (actual <= band["upper"].to_numpy())
        out[f"cover{level}"] = float(inside.mean())
    return out


def _point_scores(point: np.ndarray, actual: np.ndarray, scale: float) -> dict[str, float]:
    error = actual - point
    total = float(np.abs(actual).sum()) or 1.0
    return {
        "mase_h7": float(np.abs(error[:7]).mean() / scale),
        "mase_h28": float(np.abs(error).mean() / scale),
        "wape_h28": float(np.abs(error).sum() / total),
        "bias_h28": float(-error.sum() / total),
    }


def evaluate(window: pd.Series, history_days: int) -> dict[str, dict[str, float]]:
    """Scores of every rule and method on one cutoff: `window` is the history then the test."""
    history, actual = window.iloc[:history_days], window.to_numpy()[history_days:]
    start = history.index[-1] + pd.Timedelta(days=1)
    scale = backtest._naive_scale(history.to_numpy())
    tested = backtest.run(history, list(choice.POOL))
    table = tested.table()
    fitted = {name: FITTERS[name](history) for name in tested.errors}
    points = {name: f.predict(TEST_DAYS) for name, f in fitted.items()}
    out: dict[str, dict[str, float]] = {}
    for name in tested.errors:
        model = _model(fitted[name], tested.errors_by_week(name), history)
        out[name] = {
            **_point_scores(points[name], actual, scale),
            **_band_scores(model, actual, start),
        }
    for rule, pick in choice.RULES.items():
        weights = pick(table, choice.POOL)
        point = choice.combine(rule, points, weights)
        forecasts = {name: tested.forecasts(name) for name in weights}
        first = next(iter(weights))
        combined = backtest.Backtest(
            errors={"auto": tested.actuals[first] - choice.combine(rule, forecasts, weights)},
            actuals={"auto": tested.actuals[first]},
            scales={"auto": tested.scales[first]},
            levels=tested.levels,
        )
        model = _model(_Fixed(point), combined.errors_by_week("auto"), history)
        trend = float(any(name in choice.TREND_CAPABLE for name in weights))
        out[rule] = {
            **_point_scores(point, actual, scale),
            **_band_scores(model, actual, start),
            "trend_capable": trend,
        }
    before = fit("ensemble", history).predict(TEST_DAYS)
    out["ensemble (before)"] = _point_scores(before, actual, scale)
    return out


class _Fixed:
    def __init__(self, point: np.ndarray) -> None:
        self.point = point

    def predict(self, steps: int) -> np.ndarray:
        return np.resize(self.point, steps)


def _model(fitted: Any, errors: list[np.ndarray], history: pd.Series) -> ForecastModel:
    return ForecastModel(
        model_type="auto",
        served="auto",
        fitted=fitted,
        last_day=history.index[-1],
        errors_by_week=errors,
        backtest={},
        scale=backtest.level(history.to_numpy()),
    )


def windows(series: pd.Series, history_days: int, cutoffs: int, stress: Any) -> list[pd.Series]:
    out = []
    for k in range(cutoffs):
        cut = len(series) - TEST_DAYS - SPACING * k
        if cut - history_days < 0:
            break
        window = series.iloc[cut - history_days : cut + TEST_DAYS].copy()
        if stress is not None:
            i = np.arange(len(window))
            window = window * stress(i, history_days // 2)
        out.append(window)
    return out


def summary(rows: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for name, scores in row.items():
            for metric, value in scores.items():
                sums[name][metric].append(value)
    return {n: {m: float(np.mean(v)) for m, v in ms.items()} for n, ms in sums.items()}


def print_group(title: str, rows: list[dict[str, dict[str, float]]]) -> None:
    s = summary(rows)
    print(f"\n#### {title}: {len(rows)} cutoffs")
    print("| method | MASE h7 | MASE h28 | WAPE h28 | bias h28 | 80 % cover | 95 % cover |")
    print("|---|---|---|---|---|---|---|")
    for name, m in s.items():
        covers = f"{m['cover80']:.2f} | {m['cover95']:.2f}" if "cover80" in m else "- | -"
        print(
            f"| {name} | {m['mase_h7']:.3f} | {m['mase_h28']:.3f} | {m['wape_h28']:.3f} | "
            f"{m['bias_h28']:+.3f} | {covers} |"
        )


def main() -> None:
    as_worker("bench.forecast_choice")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-journey", action="store_true")
    parser.add_argument("--cutoffs", type=int, default=4)
    parser.add_argument("--history", type=int, default=90)
    args = parser.parse_args()
    base = {f"demo seed {seed}": demo_series(seed, 400) for seed in args.seeds}
    if not args.no_journey:
        base.update(journey_series())
    stressed = [next(iter(base)), *(["Complete Journey total"] if not args.no_journey else [])]
    groups: dict[str, list[pd.Series]] = {}
    for name, series in base.items():
        groups[name] = windows(series, args.history, args.cutoffs, None)
        if name in stressed:
            for label, stress in STRESS.items():
                groups[f"{name}, {label}"] = windows(series, args.history, args.cutoffs, stress)
    results: dict[str, Any] = {}
    for title, group in groups.items():
        started = time.perf_counter()
        rows = [evaluate(window, args.history) for window in group]
        results[title] = summary(rows)
        print_group(title, rows)
        print(f"({time.perf_counter() - started:.0f} s)", flush=True)
    compared = [*choice.RULES, "seasonal_naive", "ensemble (before)"]
    overall = {rule: [results[t][rule] for t in results] for rule in compared}
    print("\n#### Mean over the groups: MASE h7 / h28 / 80 % cover (worst group's MASE h28)")
    for rule, per in overall.items():
        h7 = np.mean([p["mase_h7"] for p in per])
        h28 = np.mean([p["mase_h28"] for p in per])
        worst = max(
            p["mase_h28"] - results[t]["seasonal_naive"]["mase_h28"]
            for t, p in zip(results, per, strict=True)
        )
        cover = np.mean([p.get("cover80", np.nan) for p in per])
        print(f"| {rule} | {h7:.3f} | {h28:.3f} | {cover:.2f} | worst h28 vs naive {worst:+.3f} |")
    save_results("forecast-choice", results)


if __name__ == "__main__":
    main()
