"""The forecast panel (issue 18): the served forecast beside seasonal naive and four peers, on
the same origins of many real and stressed daily sales series.

    python -m bench.forecast_panel [--served ensemble] [--quick] [--no-peers] [--groups TEXT]

Series and origins: bench/panel_cases.py (the demo data, The Complete Journey's total and
departments, the public data sets of bench/datasets/README.md and stress variants of them).
At each origin, every method is fitted on the history before it and forecasts the 28 days from
it, with 80 % and 95 % bands: the served forecast as the service trains it
(`train_forecaster(history, SERVED)`, then `ForecastModel.forecast`), seasonal naive (last week
repeated; bands from the history's errors at the same weeks ahead), and the peers of
bench/peers.py, run by .venv-peers/bin/python (`make bench-peers`) in a subprocess beside the
served fits. Peers' results are cached in bench/results/forecast-panel-peers.json, so that
another served method is scored without refitting them.

Reported per group, as means over its series and origins: MASE at 7 and 28 days (scaled by the
history's seasonal-naive in-sample error), WAPE and bias (sum of forecast minus actual over the
sum of actuals) over 28 days, the share of days inside the 80 % and 95 % bands, and the seconds
of one fit (the served one: a whole training, backtest included).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from app.errors import NotEnoughData
from app.forecast.model import ForecastModelType, train_forecaster
from bench.panel_cases import HORIZON, ORIGINS, STRESS_BASES, Case, build
from bench.serving import ROOT, as_worker, save_results

PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
PEERS_CACHE = ROOT / "bench" / "results" / "forecast-panel-peers.json"
PEERS = ("AutoETS", "AutoARIMA", "AutoTheta", "Prophet")
LEVELS = (80, 95)
WEEK = 7
METRICS = ("mase_h7", "mase_h28", "wape", "bias", "cov80", "cov95", "fit_seconds")

Forecast = dict[str, np.ndarray]  # "mean", "lo80", "hi80", "lo95", "hi95"


def task_key(case: Case, origin: pd.Timestamp) -> str:
    """Names one history: its series, first day, length and sum (a stress variant differs)."""
    history = _history(case, origin)
    return f"{case.group}|{case.name}|{history.index[0].date()}|{len(history)}|{history.sum():.4f}"


def _history(case: Case, origin: pd.Timestamp) -> pd.Series:
    end = case.series.index.get_loc(origin)
    return case.series.iloc[end - case.history_days : end]


def _actual(case: Case, origin: pd.Timestamp) -> np.ndarray:
    start = case.series.index.get_loc(origin)
    return case.series.to_numpy(dtype=float)[start : start + HORIZON]


def served(history: pd.Series, method: str) -> tuple[Forecast, float]:
    started = time.perf_counter()
    model = train_forecaster(history, cast(ForecastModelType, method))
    seconds = time.perf_counter() - started
    first_day = history.index[-1] + pd.Timedelta(days=1)
    out: Forecast = {}
    for level in LEVELS:
        frame = model.forecast(first_day, HORIZON, level)
        out["mean"] = frame["predicted"].to_numpy()
        out[f"lo{level}"], out[f"hi{level}"] = frame["lower"].to_numpy(), frame["upper"].to_numpy()
    return out, seconds


def seasonal_naive(history: pd.Series) -> tuple[Forecast, float]:
    """The last week repeated; the band of week k ahead from the history's errors of the
    same forecast made k weeks earlier (y[t] - y[t - 7k])."""
    started = time.perf_counter()
    values = history.to_numpy(dtype=float)
    weeks = HORIZON // WEEK
    mean = np.tile(values[-WEEK:], weeks)
    out: Forecast = {"mean": mean}
    for level in LEVELS:
        alpha = (100 - level) / 200
        low, high = [], []
        for k in range(1, weeks + 1):
            errors = values[WEEK * k :] - values[: -WEEK * k]
            low.append(np.quantile(errors, alpha) if len(errors) else 0.0)
            high.append(np.quantile(errors, 1 - alpha) if len(errors) else 0.0)
        out[f"lo{level}"] = np.maximum(mean + np.repeat(low, WEEK), 0.0)
        out[f"hi{level}"] = mean + np.repeat(high, WEEK)
    return out, time.perf_counter() - started


def score(forecast: Forecast, actual: np.ndarray, history: pd.Series) -> dict[str, float]:
    values = history.to_numpy(dtype=float)
    scale = float(np.abs(values[WEEK:] - values[:-WEEK]).mean()) or 1.0
    error = forecast["mean"] - actual
    total = float(actual.sum())
    out = {
        "mase_h7": float(np.abs(error[:WEEK]).mean() / scale),
        "mase_h28": float(np.abs(error).mean() / scale),
        "wape": float(np.abs(error).sum() / total) if total > 0 else float("nan"),
        "bias": float(error.sum() / total) if total > 0 else float("nan"),
    }
    for level in LEVELS:
        inside = (actual >= forecast[f"lo{level}"] - 1e-9) & (actual <= forecast[f"hi{level}"])
        out[f"cov{level}"] = float(inside.mean())
    return out


def start_peers(cases: list[Case], cache: dict[str, Any]) -> tuple[subprocess.Popen[bytes], Path]:
    """Starts bench/peers.py on the histories not in `cache`; returns the process and the path
    it writes its results to."""
    tasks = []
    for case in cases:
        for origin in case.origins:
            key = task_key(case, origin)
            if key not in cache:
                history = _history(case, origin)
                tasks.append(
                    {
                        "id": key,
                        "start": str(history.index[0].date()),
                        "values": history.tolist(),
                        "horizon": HORIZON,
                    }
                )
    folder = Path(tempfile.mkdtemp(prefix="forecast-panel-"))
    (folder / "tasks.json").write_text(json.dumps({"levels": list(LEVELS), "tasks": tasks}))
    print(f"peers: {len(tasks)} histories to fit ({len(cache)} cached)", flush=True)
    command = [str(PEERS_PYTHON), str(ROOT / "bench" / "peers.py")]
    command += [str(folder / "tasks.json"), str(folder / "out.json")]
    log = (folder / "peers.log").open("wb")
    return subprocess.Popen(command, stdout=log, stderr=log), folder / "out.json"


def run(cases: list[Case], method: str, peers: bool, jobs: int) -> list[dict[str, Any]]:
    """One row per case and origin: the scores of every method; the served trainings in `jobs`
    processes, beside the peers' one."""
    cache: dict[str, Any] = json.loads(PEERS_CACHE.read_text()) if PEERS_CACHE.exists() else {}
    process, out_path = start_peers(cases, cache) if peers else (None, None)
    rows: list[dict[str, Any]] = []
    known: dict[str, tuple[pd.Series, np.ndarray]] = {}
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = []
        for case in cases:
            for origin in case.origins:
                history, actual = _history(case, origin), _actual(case, origin)
                key = task_key(case, origin)
                known[key] = (history, actual)
                futures.append((case, origin, key, pool.submit(served, history, method)))
        for number, (case, origin, key, future) in enumerate(futures, 1):
            history, actual = known[key]
            row: dict[str, Any] = {
                "group": case.group,
                "series": case.name,
                "origin": str(origin.date()),
                "key": key,
            }
            try:
                served_result = future.result()
            except NotEnoughData as error:  # e.g. a department without sales in the history
                print(f"left out {key}: {error}", flush=True)
                continue
            for name, (forecast, seconds) in (
                ("served", served_result),
                ("seasonal naive", seasonal_naive(history)),
            ):
                row[name] = {**score(forecast, actual, history), "fit_seconds": seconds}
            rows.append(row)
            elapsed = time.perf_counter() - started
            print(f"served {number}/{len(futures)} ({elapsed:.0f} s)", flush=True)
    if process is not None and out_path is not None:
        if process.wait() != 0:
            print(f"bench/peers.py failed: see {out_path.parent / 'peers.log'}")
        if out_path.exists():
            cache.update(json.loads(out_path.read_text()))
        PEERS_CACHE.parent.mkdir(parents=True, exist_ok=True)
        PEERS_CACHE.write_text(json.dumps(cache))
    for row in rows:
        history, actual = known[row["key"]]
        for name in PEERS:
            result = cache.get(row["key"], {}).get(name)
            if result is not None and "error" not in result:
                forecast = {k: np.asarray(v) for k, v in result.items() if k != "fit_seconds"}
                row[name] = {
                    **score(forecast, actual, history),
                    "fit_seconds": result["fit_seconds"],
                }
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per group and method: the mean of each metric over its rows, and their count."""
    values: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for row in rows:
        for method in ("served", "seasonal naive", *PEERS):
            if method in row:
                for metric in METRICS:
                    values[row["group"]][method][metric].append(row[method][metric])
    return {
        group: {
            method: {
                **{m: float(np.nanmean(v)) if v else float("nan") for m, v in metrics.items()},
                "n": float(len(metrics["mase_h28"])),
            }
            for method, metrics in methods.items()
        }
        for group, methods in values.items()
    }


def print_tables(summary: dict[str, dict[str, dict[str, float]]], method: str) -> None:
    print(f"\n#### The served forecast ({method}) beside the best peer: MASE h7 / h28, 80 % band")
    print("| group | histories | served | seasonal naive | best peer h7 | best peer h28 | 80 % |")
    print("|---|---|---|---|---|---|---|")
    for group, methods in summary.items():
        s, naive = methods["served"], methods["seasonal naive"]
        peers = {p: methods[p] for p in PEERS if p in methods}
        h7 = min(peers.items(), key=lambda item: item[1]["mase_h7"], default=None)
        h28 = min(peers.items(), key=lambda item: item[1]["mase_h28"], default=None)
        best7 = f"{h7[1]['mase_h7']:.3f} ({h7[0]})" if h7 else "-"
        best28 = f"{h28[1]['mase_h28']:.3f} ({h28[0]})" if h28 else "-"
        print(
            f"| {group} | {int(s['n'])} | {s['mase_h7']:.3f} / {s['mase_h28']:.3f} | "
            f"{naive['mase_h7']:.3f} / {naive['mase_h28']:.3f} | {best7} | {best28} | "
            f"{s['cov80']:.2f} |"
        )
    for group, methods in summary.items():
        print(f"\n#### {group}: {int(methods['served']['n'])} histories (series × origins)")
        print("| method | MASE h7 | MASE h28 | WAPE | bias | 80 % | 95 % | fit s |")
        print("|---|---|---|---|---|---|---|---|")
        for name, m in methods.items():
            label = f"served ({method})" if name == "served" else name
            print(
                f"| {label} | {m['mase_h7']:.3f} | {m['mase_h28']:.3f} | {m['wape']:.3f} | "
                f"{m['bias']:+.3f} | {m['cov80']:.2f} | {m['cov95']:.2f} | "
                f"{m['fit_seconds']:.2f} |"
            )


def main() -> None:
    as_worker("bench.forecast_panel")
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--served", default="auto", help="the method train_forecaster fits")
    parser.add_argument("--quick", action="store_true", help="totals only, 2 origins, 1 seed")
    parser.add_argument("--categories", type=int, default=3, help="per data set (-1: all)")
    parser.add_argument("--category-origins", type=int, default=2)
    parser.add_argument("--long", action="store_true", help="also 365-day histories of totals")
    parser.add_argument("--stress-bases", nargs="*", default=list(STRESS_BASES))
    parser.add_argument("--no-peers", action="store_true", help="score served and naive only")
    parser.add_argument("--groups", nargs="*", default=[], help="keep groups naming any of these")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--jobs", type=int, default=2, help="processes for the served fits")
    args = parser.parse_args()
    if args.no_peers is False and not PEERS_PYTHON.exists():
        sys.exit("The peers need their environment: make bench-peers (or pass --no-peers)")
    skipped: list[str] = []
    seeds = args.seeds[:1] if args.quick else args.seeds
    categories = 0 if args.quick else None if args.categories < 0 else args.categories
    count = 2 if args.quick else ORIGINS
    cases = list(
        build(
            seeds,
            count,
            categories,
            args.category_origins,
            skipped,
            args.long,
            tuple(args.stress_bases),
        )
    )
    if args.groups:
        cases = [c for c in cases if any(text in c.group for text in args.groups)]
    for note in skipped:
        print(f"left out: {note}")
    started = time.perf_counter()
    rows = run(cases, args.served, not args.no_peers, args.jobs)
    summary = summarise(rows)
    print_tables(summary, args.served)
    print(f"\n({len(rows)} histories in {time.perf_counter() - started:.0f} s)")
    name = f"forecast-panel-{args.served}" + ("-quick" if args.quick else "")
    name += "".join(f"-{text.replace(' ', '_')}" for text in args.groups)
    path = save_results(name, {"served": args.served, "summary": summary, "rows": rows})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
