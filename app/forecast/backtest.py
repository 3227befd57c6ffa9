"""Rolling-origin backtests: each candidate, fitted on the series up to an origin, forecasts the
days after it, as it would have in production; the errors score it and calibrate intervals.

Up to ORIGINS origins are spread over the history, 3 to 14 days apart, the last one HORIZON days
before the series' end, so that every origin's forecast is checked against HORIZON actual days
and the last one ends on the last day; errors of origins far apart see more than one regime of
a series whose level moves. Every candidate is scored on the same origins (the first one late
enough for the most demanding), so that their errors compare and combine. MASE divides a
candidate's mean absolute error by the in-sample mean absolute error of the seasonal naive
forecast (same weekday a week before) on that origin's training days: below 1 beats "the same
day last week"."""

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.forecast.candidates import ENSEMBLE_MEMBERS, FITTERS, MIN_DAYS, WEEK, CandidateName

HORIZON = 30  # the longest forecast the API gives
ORIGINS = 12
STRIDES = (3, 14)  # the fewest and the most days between origins
LEVEL_DAYS = 4 * WEEK  # an origin's level: the mean of its last four weeks
REPORTED_HORIZONS = (7, 28)


@dataclass
class Backtest:
    """Per candidate, the signed errors (actual minus forecast, one row per origin, one column
    per day ahead), the actual values and the MASE scale of each origin; and each origin's
    level, which makes errors relative."""

    errors: dict[CandidateName, np.ndarray]
    actuals: dict[CandidateName, np.ndarray]
    scales: dict[CandidateName, np.ndarray]
    levels: np.ndarray = field(default_factory=lambda: np.ones(0))

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

    def forecasts(self, name: CandidateName) -> np.ndarray:
        forecasts: np.ndarray = self.actuals[name] - self.errors[name]
        return forecasts

    def errors_by_week(self, name: CandidateName) -> list[np.ndarray]:
        """The sorted signed errors of each week ahead (days 1-7, 8-14, ...) relative to their
        origin's level, for intervals; the days after the last whole week join it (days 22-30
        of a 30-day horizon)."""
        errors = self.errors[name]
        if len(self.levels):  # a candidate may skip the first origins: its levels' prefix
            errors = errors / self.levels[: len(errors), None]
        weeks = max(errors.shape[1] // WEEK, 1)
        starts = [k * WEEK for k in range(weeks)] + [errors.shape[1]]
        return [np.sort(errors[:, start:end].ravel()) for start, end in itertools.pairwise(starts)]


def _naive_scale(train: np.ndarray) -> float:
    """Mean absolute error of the same-weekday-last-week forecast inside the training days."""
    scale = float(np.abs(train[WEEK:] - train[:-WEEK]).mean()) if len(train) > WEEK else 0.0
    return scale if scale > 0 else float(np.abs(train).mean() or 1.0)


def origins(length: int, first: int) -> list[int]:
    """The origins (days of history before each) of a series of `length` days: the last HORIZON
    days before the end, then back by a stride that spreads ORIGINS of them down to `first`."""
    last = length - HORIZON
    if last < first:
        return []
    stride = int(np.clip((last - first) // max(ORIGINS - 1, 1), *STRIDES))
    return [last - stride * k for k in range(ORIGINS) if last - stride * k >= first]


def level(train: np.ndarray) -> float:
    """The mean of the last LEVEL_DAYS, which intervals scale with; 1 when it is zero."""
    mean = float(np.abs(train[-LEVEL_DAYS:]).mean())
    return mean if mean > 0 else 1.0


def run(series: pd.Series, names: list[CandidateName]) -> Backtest:
    """Backtests the named candidates on the origins where the most demanding has the history
    it needs, or, when the history is too short for that, each candidate that can on the
    origins it can (then their scores do not compare), and a candidate no origin could run is
    left out. The ensemble reuses its members' forecasts."""
    fitted_names = set(names) | (set(ENSEMBLE_MEMBERS) if "ensemble" in names else set())
    needs = [MIN_DAYS[name] for name in fitted_names if name != "ensemble"]
    cuts = origins(len(series), max(needs)) or origins(len(series), min(needs))
    rows: dict[CandidateName, list[tuple[np.ndarray, np.ndarray, float]]] = {n: [] for n in names}
    levels = []
    for cut in cuts:
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
        levels.append(level(train.to_numpy()))
    kept = {name: found for name, found in rows.items() if found}
    return Backtest(
        errors={name: np.array([r[0] for r in found]) for name, found in kept.items()},
        actuals={name: np.array([r[1] for r in found]) for name, found in kept.items()},
        scales={name: np.array([r[2] for r in found]) for name, found in kept.items()},
        levels=np.array(levels),
    )
