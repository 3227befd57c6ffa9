"""The forecast panel's peers: statsforecast's AutoETS, AutoARIMA, AutoTheta and Prophet.

    .venv-peers/bin/python bench/peers.py TASKS.json OUT.json

Runs in its own virtual environment (`make bench-peers`; requirements-peers.txt), never in the
service's: statsforecast needs pandas < 3. It imports nothing from the project. TASKS.json:
{"levels": [80, 95], "tasks": [{"id", "start" (YYYY-MM-DD, the first day of `values`),
"values" (daily sales), "horizon"}]}. OUT.json: {task id: {peer: {"mean", "lo80", "hi80",
"lo95", "hi95" (lists of `horizon` numbers, clipped at 0: sales are never negative),
"fit_seconds" (fit and forecast)}}}; a peer that fails on a task has {"error": message}.

Every statsforecast model has a season length of 7; Prophet has weekly seasonality, yearly
seasonality when its own rule allows (two years of history), no daily seasonality, and its own
intervals (quantiles of 1,000 predictive samples).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Forecast = dict[str, np.ndarray]
SEASON = 7


def _statsforecast(name: str) -> Callable[[pd.Series, int, list[int]], Forecast]:
    from statsforecast import models

    def run(history: pd.Series, horizon: int, levels: list[int]) -> Forecast:
        model = getattr(models, name)(season_length=SEASON)
        out = model.forecast(y=history.to_numpy(dtype=float), h=horizon, level=levels)
        return {key.replace("-", ""): np.asarray(value) for key, value in out.items()}

    return run


def _prophet(history: pd.Series, horizon: int, levels: list[int]) -> Forecast:
    from prophet import Prophet

    frame = pd.DataFrame({"ds": history.index, "y": history.to_numpy(dtype=float)})
    model = Prophet(weekly_seasonality=True, daily_seasonality=False, uncertainty_samples=1000)
    model.fit(frame)
    future = model.make_future_dataframe(periods=horizon, include_history=False)
    out: Forecast = {"mean": model.predict(future)["yhat"].to_numpy()}
    samples = model.predictive_samples(future)["yhat"]
    for level in levels:
        alpha = (100 - level) / 200
        out[f"lo{level}"] = np.quantile(samples, alpha, axis=1)
        out[f"hi{level}"] = np.quantile(samples, 1 - alpha, axis=1)
    return out


PEERS: dict[str, Callable[[pd.Series, int, list[int]], Forecast]] = {
    "AutoETS": _statsforecast("AutoETS"),
    "AutoARIMA": _statsforecast("AutoARIMA"),
    "AutoTheta": _statsforecast("AutoTheta"),
    "Prophet": _prophet,
}


def run_task(task: dict[str, Any], levels: list[int]) -> dict[str, dict[str, Any]]:
    index = pd.date_range(task["start"], periods=len(task["values"]), freq="D")
    history = pd.Series(task["values"], index=index, dtype=float)
    out: dict[str, dict[str, Any]] = {}
    for name, peer in PEERS.items():
        started = time.perf_counter()
        try:
            forecast = peer(history, task["horizon"], levels)
        except Exception as error:  # a peer's failure is a result, not the end of the panel
            out[name] = {"error": f"{type(error).__name__}: {error}"}
            continue
        result: dict[str, Any] = {
            key: np.maximum(np.asarray(value, dtype=float), 0.0).tolist()
            for key, value in forecast.items()
        }
        result["fit_seconds"] = time.perf_counter() - started
        out[name] = result
    return out


def warm_up() -> None:
    """Compiles statsforecast's numba code and loads Prophet's Stan model before any timing."""
    days = pd.date_range("2020-01-01", periods=60, freq="D")
    history = pd.Series(100 + 10 * np.sin(np.arange(60)), index=days)
    for peer in PEERS.values():
        peer(history, 7, [80])


def main() -> None:
    tasks_path, out_path = Path(sys.argv[1]), Path(sys.argv[2])
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    spec = json.loads(tasks_path.read_text())
    warm_up()
    results: dict[str, Any] = {}
    for number, task in enumerate(spec["tasks"], 1):
        results[task["id"]] = run_task(task, spec["levels"])
        partial = out_path.with_suffix(".partial")
        partial.write_text(json.dumps(results))  # what is done survives an interrupted run
        partial.replace(out_path)
        print(f"{number}/{len(spec['tasks'])}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
