"""The first forecast asked of a model just loaded: what a request pays after each training,
restart or UTC midnight (issue 20, item 4).

    python -m bench.forecast_first_call [--days 120] [--loads 30]

A forecast training as the worker runs it (`fit_model`: the total and each category, ensemble)
on the demo data's daily sales; then `--loads` times the saved model (pickled) is loaded again
and each forecaster asked its first 7-day forecast from today (the day after its history) and
then from tomorrow (the same model after UTC midnight): milliseconds per call, p50 and p99. For
comparison, the same calls on a model without the forecast computed at training (as models
were saved before: the first call computes it). BLAS runs one thread, as in the service."""

import argparse
import pickle
import time
from typing import Any

import numpy as np
import pandas as pd

from app.forecast.inputs import ForecastInput
from app.forecast.model import Forecasters, ForecastModel, fit_model
from bench.forecast_training import MAX_CATEGORIES, demo_per_category
from bench.serving import as_worker, percentiles, save_results


def _first_calls(saved: bytes, loads: int, computed: bool) -> dict[str, dict[str, float]]:
    timings: dict[str, list[float]] = {"today": [], "tomorrow": []}
    for _ in range(loads):
        loaded: Forecasters = pickle.loads(saved)
        models: list[ForecastModel] = [loaded.total, *loaded.categories.values()]
        for model in models:
            if not computed:
                model._path = np.empty(0)  # as a model saved before: nothing computed
            for day, offset in (("today", 1), ("tomorrow", 2)):
                first_day = model.last_day + pd.Timedelta(days=offset)
                started = time.perf_counter()
                model.forecast(first_day, 7, 80)
                timings[day].append((time.perf_counter() - started) * 1000)
    return {day: percentiles(values) for day, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast_first_call")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--loads", type=int, default=30)
    args = parser.parse_args()
    as_worker("bench.forecast_first_call")
    total, categories = demo_per_category(args.days)
    started = time.perf_counter()
    fitted = fit_model(ForecastInput(total, categories, "ensemble", MAX_CATEGORIES))
    print(f"fit_model: {time.perf_counter() - started:.1f} s, {len(fitted.categories)} categories")
    saved = pickle.dumps(fitted)
    results: dict[str, Any] = {
        "days": args.days,
        "forecasters": 1 + len(fitted.categories),
        "computed_at_training": _first_calls(saved, args.loads, computed=True),
        "computed_on_first_call": _first_calls(saved, args.loads, computed=False),
    }
    print(results)
    print("written to", save_results("forecast_first_call", results))


if __name__ == "__main__":
    main()
