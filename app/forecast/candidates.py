"""The forecasting methods the service can serve, each fitted on a dense daily sales series and
asked for the days right after it.

- `seasonal_naive`: each day repeats the same weekday of the last week (the baseline MASE is
  scaled by; always a candidate);
- `weekday_mean_28`, `weekday_mean_90`: the mean of each weekday over the last 28 or 90 days;
- `RandomForestRegressor`, `LinearRegression`: the original's recursive regressors on calendar,
  lag and rolling features (see `features`);
- `ensemble`: the median of a fixed set of members, chosen with the benchmark, not per training.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression

from app.config import ForecastMethod
from app.forecast.features import FEATURE_NAMES, WARM_UP_DAYS, make_features, next_day_features

CandidateName = ForecastMethod
ENSEMBLE_MEMBERS: tuple[CandidateName, ...] = (
    "seasonal_naive",
    "weekday_mean_28",
    "weekday_mean_90",
    "RandomForestRegressor",
)
WEEK = 7
# The regressors learn from the last year at most: a backtest refits them at every origin, and
# three years of rows made a training with ten categories take 80 s instead of about 30 s.
REGRESSOR_MAX_DAYS = 365


class Fitted(Protocol):
    def predict(self, steps: int) -> np.ndarray:
        """Sales of the `steps` days after the end of the series it was fitted on."""


@dataclass
class SeasonalNaive:
    last_week: np.ndarray

    def predict(self, steps: int) -> np.ndarray:
        return np.resize(self.last_week, steps)


@dataclass
class WeekdayMean:
    """`means[k]` is the mean of the weekday k + 1 days after the series' end, modulo 7."""

    means: np.ndarray

    def predict(self, steps: int) -> np.ndarray:
        return np.resize(self.means, steps)


@dataclass
class Recursive:
    """A regressor rolled forward one day at a time, each prediction feeding the next day's
    lags and rolling windows."""

    estimator: RandomForestRegressor | LinearRegression
    history: pd.Series
    origin: pd.Timestamp
    feature_names: list[str] = field(default_factory=lambda: list(FEATURE_NAMES))

    def predict(self, steps: int) -> np.ndarray:
        values = self.history.to_numpy()[-WARM_UP_DAYS:].astype(np.float64)
        day = self.history.index[-1]
        predicted = np.empty(steps)
        for step in range(steps):
            day = day + pd.Timedelta(days=1)
            row = next_day_features(values[-WARM_UP_DAYS:], day, self.origin)
            predicted[step] = max(0.0, self._predict_row(row))
            values = np.append(values[1:], predicted[step])
        return predicted

    def _predict_row(self, row: np.ndarray) -> float:
        """What `estimator.predict` gives one row, without its per-call checks and thread pool,
        which cost ~15 ms a step for a forest: the mean of the trees' leaf values (what each
        tree's `predict` reads from its `tree_`), or the linear formula."""
        if isinstance(self.estimator, LinearRegression):
            return float(row @ self.estimator.coef_ + self.estimator.intercept_)
        x = row.astype(np.float32).reshape(1, -1)
        trees = self.estimator.estimators_
        return float(sum(tree.tree_.predict(x)[0, 0] for tree in trees) / len(trees))


@dataclass
class Median:
    members: list[Fitted]

    def predict(self, steps: int) -> np.ndarray:
        median: np.ndarray = np.median([m.predict(steps) for m in self.members], axis=0)
        return median


def _weekday_mean(window: int) -> Callable[[pd.Series], Fitted]:
    def fit(series: pd.Series) -> Fitted:
        recent = series.to_numpy()[-window:]
        last = len(recent) - 1
        # the day k (1..7) after the end shares its weekday with position last - (7 - k)
        means = np.array([recent[last - (WEEK - k) :: -WEEK].mean() for k in range(1, WEEK + 1)])
        return WeekdayMean(means)

    return fit


def _recursive(
    model_type: Literal["RandomForestRegressor", "LinearRegression"],
) -> Callable[[pd.Series], Fitted]:
    def fit(series: pd.Series) -> Fitted:
        series = series.iloc[-REGRESSOR_MAX_DAYS:]
        origin = series.index[0]
        features = make_features(series.to_numpy(), series.index, origin).iloc[WARM_UP_DAYS:]
        estimator: RandomForestRegressor | LinearRegression = (
            RandomForestRegressor(n_estimators=100, random_state=42, n_jobs=1)
            if model_type == "RandomForestRegressor"
            else LinearRegression()
        )
        estimator.fit(features, series.iloc[WARM_UP_DAYS:])
        return Recursive(estimator, series.iloc[-(WARM_UP_DAYS + 1) :].copy(), origin)

    return fit


def _seasonal_naive(series: pd.Series) -> Fitted:
    return SeasonalNaive(series.to_numpy()[-WEEK:].copy())


FITTERS: dict[CandidateName, Callable[[pd.Series], Fitted]] = {
    "seasonal_naive": _seasonal_naive,
    "weekday_mean_28": _weekday_mean(28),
    "weekday_mean_90": _weekday_mean(90),
    "RandomForestRegressor": _recursive("RandomForestRegressor"),
    "LinearRegression": _recursive("LinearRegression"),
}
# What each method needs, in days of history: a week to repeat, the warm-up of the lags and
# rolling windows plus as many days again to learn from.
MIN_DAYS: dict[CandidateName, int] = {
    "seasonal_naive": WEEK,
    "weekday_mean_28": WEEK,
    "weekday_mean_90": WEEK,
    "RandomForestRegressor": 2 * WARM_UP_DAYS,
    "LinearRegression": 2 * WARM_UP_DAYS,
    "ensemble": 2 * WARM_UP_DAYS,
}


def fit(name: CandidateName, series: pd.Series) -> Fitted:
    """The named method fitted on a dense daily series."""
    if name == "ensemble":
        return Median([FITTERS[member](series) for member in ENSEMBLE_MEMBERS])
    return FITTERS[name](series)
