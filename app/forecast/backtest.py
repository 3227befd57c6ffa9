"""Rolling-origin backtests: each candidate, fitted on the series up to an origin, forecasts the
days after it, as it would have in production; the errors score it and calibrate intervals.

Origins are ORIGINS days STRIDE apart, the last one HORIZON days before the series' end, so that
every origin's forecast is checked against HORIZON actual days. MASE divides a candidate's mean
absolute error by the in-sample mean absolute error of the seasonal naive forecast (same weekday a
week before) on that origin's training days: below 1 beats "the same day last week"."""

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.forecast.candidates import ENSEMBLE_MEMBERS, FITTERS, MIN_DAYS, WEEK, CandidateName

HORIZON = 30  # the longest forecast the API gives
ORIGINS = 8
STRIDE = 3
REPORTED_HORIZONS = (7, 28)


@dataclass
class Backtest:
    """Per candidate, the signed errors (actual minus forecast, one row per origin, one column
    per day ahead), the actual values and the MASE scale of each origin."""

    errors: dict[CandidateName, np.ndarray]
    actuals: dict[CandidateName, np.ndarray]
    scales: dict[CandidateName, np.ndarray]

    def table(self) -> dict[str, dict[str, float]]:
        """MAE, RMSE, MASE, WAPE and bias at 7 and 28 days ahead, per candidate."""
        out: dict[str, dict[str, float]] = {}
        for name, errors in self.errors.items():
            row: dict[str, float] = {"origins": float(len(errors))}
            for h in REPORTED_HORIZONS:
                e, actual = errors[:, :h], self.actuals[name][:, :h]
                absolute = np.abs(e)
                row[f"mae_h{h}"] = float(absolute.mean())
                row[f"rmse_h{h}"] = float(np.sqrt((e**2).mean()))
                row[f"mase_h{h}"] = float((absolute.mean(axis=1) / self.scales[name]).mean())
                total = float(np.abs(actual).sum()) or 1.0
                row[f"wape_h{h}"] = float(absolute.sum() / total)
                row[f"bias_h{h}"] = float(-e.sum() / total)  # forecast above actual: positive
            out[name] = row
        return out

    def errors_by_week(self, name: CandidateName) -> list[np.ndarray]:
        """The sorted signed errors of each week ahead (days 1-7, 8-14, ...), for intervals;
        the days after the last whole week join it (days 22-30 of a 30-day horizon)."""
        errors = self.errors[name]
        weeks = max(errors.shape[1] // WEEK, 1)
        starts = [k * WEEK for k in range(weeks)] + [errors.shape[1]]
        return [np.sort(errors[:, start:end].ravel()) for start, end in itertools.pairwise(starts)]


def _naive_scale(train: np.ndarray) -> float:
    """Mean absolute error of the same-weekday-last-week forecast inside the training days."""
    scale = float(np.abs(train[WEEK:] - train[:-WEEK]).mean()) if len(train) > WEEK else 0.0
    return scale if scale > 0 else float(np.abs(train).mean() or 1.0)


def run(series: pd.Series, names: list[CandidateName]) -> Backtest:
    """Backtests the named candidates; one too data-hungry for an origin skips that origin, and
    a candidate no origin could run is left out. The ensemble reuses its members' forecasts."""
    fitted_names = set(names) | (set(ENSEMBLE_MEMBERS) if "ensemble" in names else set())
    rows: dict[CandidateName, list[tuple[np.ndarray, np.ndarray, float]]] = {n: [] for n in names}
    n = len(series)
    for k in range(ORIGINS):
        cut = n - HORIZON - STRIDE * k
        if cut < WEEK:
            break
        train, actual = series.iloc[:cut], series.to_numpy()[cut : cut + HORIZON]
        scale = _naive_scale(train.to_numpy())
        forecasts: dict[CandidateName, np.ndarray] = {
            name: FITTERS[name](train).predict(HORIZON)
            for name in fitted_names
            if name != "ensemble" and cut >= MIN_DAYS[name]
        }
        if "ensemble" in names and all(m in forecasts for m in ENSEMBLE_MEMBERS):
            forecasts["ensemble"] = np.median([forecasts[m] for m in ENSEMBLE_MEMBERS], axis=0)
        for name in names:
            if name in forecasts:
                rows[name].append((actual - forecasts[name], actual, scale))
    kept = {name: found for name, found in rows.items() if found}
    return Backtest(
        errors={name: np.array([r[0] for r in found]) for name, found in kept.items()},
        actuals={name: np.array([r[1] for r in found]) for name, found in kept.items()},
        scales={name: np.array([r[2] for r in found]) for name, found in kept.items()},
    )
