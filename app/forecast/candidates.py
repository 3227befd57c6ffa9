"""The forecasting methods the service can serve, each fitted on a dense daily sales series and
asked for the days right after it.

- `seasonal_naive`: each day repeats the same weekday of the last week (the baseline MASE is
  scaled by; always a candidate);
- `weekday_mean_28`, `weekday_mean_90`: the mean of each weekday over the last 28 or 90 days;
- `RandomForestRegressor`, `LinearRegression`: the original's recursive regressors on calendar,
  lag and rolling features (see `features`);
- `ETS`: additive weekly-seasonal exponential smoothing (statsmodels' Holt-Winters), without a
  trend or with a damped one, whichever has the lower AIC;
- `ARIMA`: seasonal ARIMA (p,d,q)(0,1,1) with a weekly season (statsmodels' SARIMAX): d by a
  KPSS test of the week-on-week changes, then the lowest AIC among ARIMA_OPTIONS, which include
  a drift;
- `Theta`, `ProfileTrend`: a weekday profile times a level that moves (see `level`);
- `ensemble`: the median of a fixed set of members, chosen with the benchmark on series without
  a trend: seasonal naive, both weekday means, the recursive random forest and ETS;
- `auto` (see `choice`): chosen per series from its own backtest.
"""

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression

from app.config import MAX_FORECAST_HORIZON, ForecastMethod
from app.forecast.features import FEATURE_NAMES, WARM_UP_DAYS, make_features, next_day_features
from app.forecast.level import profile_trend, theta

CandidateName = ForecastMethod
ENSEMBLE_MEMBERS: tuple[CandidateName, ...] = (
    "seasonal_naive",
    "weekday_mean_28",
    "weekday_mean_90",
    "RandomForestRegressor",
    "ETS",
)
WEEK = 7
# The fitted methods learn from the last year at most: older days barely move a weekly model's
# parameters or the regressors' two-week lags, while a backtest refits every method at each
# origin (SARIMAX took seconds on 3 years; the forest made a training with ten categories take
# 80 s instead of about 30 s).
LAST_YEAR = 52 * WEEK
STATS_MIN_DAYS = 4 * WEEK  # a weekly season and its smoothing need a few weeks to estimate
# ARIMA's options by order of differencing: without it, an AR(1) or ARMA(1, 1) of the
# week-on-week changes, with a constant (a drift: a straight-line trend) or without; with it,
# the "airline" model. The lowest AIC among them is fitted on the last ARIMA_DAYS (a SARIMAX
# fit takes 0.3-2 s on a year, and a backtest refits at every origin).
ARIMA_OPTIONS: dict[int, tuple[tuple[tuple[int, int, int], str], ...]] = {
    0: (((1, 0, 0), "c"), ((1, 0, 1), "c"), ((1, 0, 0), "n")),
    1: (((0, 1, 1), "n"),),
}
ARIMA_DAYS = 26 * WEEK
KPSS_LEVEL = 0.05
ARIMA_SEASONAL_ORDER = (0, 1, 1, WEEK)


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
        values = self.history.to_numpy().astype(np.float64)
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
class DampedSeasonal:
    """Additive exponential smoothing's forecast from its final states: the level, plus the
    trend damped by `damping` each day ahead, plus the effect of each of the next 7 days.
    Computed here rather than by statsmodels 0.15's `forecast`, which repeats a seasonal state
    one week old at every 7th day ahead."""

    level: float
    trend: float
    damping: float
    season: np.ndarray

    def predict(self, steps: int) -> np.ndarray:
        damped = self.trend * np.cumsum(self.damping ** np.arange(1, steps + 1))
        return np.maximum(self.level + damped + np.resize(self.season, steps), 0.0)


@dataclass
class StateSpace:
    """A linear state-space model's forecast from its state predicted for the first day ahead:
    each day is `intercept + design @ state`, then `state = shift + transition @ state`.
    Only numpy arrays: the saved model needs no statsmodels to load."""

    design: np.ndarray
    intercept: float
    transition: np.ndarray
    shift: np.ndarray
    state: np.ndarray

    def predict(self, steps: int) -> np.ndarray:
        state = self.state
        predicted = np.empty(steps)
        for step in range(steps):
            predicted[step] = self.intercept + self.design @ state
            state = self.shift + self.transition @ state
        return np.maximum(predicted, 0.0)


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
        series = series.iloc[-LAST_YEAR:]
        origin = series.index[0]
        features = make_features(series.to_numpy(), series.index, origin).iloc[WARM_UP_DAYS:]
        estimator: RandomForestRegressor | LinearRegression = (
            RandomForestRegressor(n_estimators=100, random_state=42, n_jobs=1)
            if model_type == "RandomForestRegressor"
            else LinearRegression()
        )
        estimator.fit(features, series.iloc[WARM_UP_DAYS:])
        return Recursive(estimator, series.iloc[-WARM_UP_DAYS:].copy(), origin)

    return fit


def _seasonal_naive(series: pd.Series) -> Fitted:
    return SeasonalNaive(series.to_numpy()[-WEEK:].copy())


def _lowest_aic(fit_one: Callable[[Any], Any], options: Iterable[Any]) -> Any | None:
    """Of the statsmodels results `fit_one(option)` that fit, the one of lowest AIC, or None.
    Their warnings (no convergence, starting values replaced) are silenced here only: a fit
    that went wrong shows in its AIC or its forecast."""
    results = []
    for option in options:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = fit_one(option)
        except (ValueError, ArithmeticError):  # numpy's LinAlgError is a ValueError
            continue
        if not np.isnan(result.aic):
            results.append(result)
    return min(results, key=lambda result: result.aic) if results else None


def _ets(values: np.ndarray) -> Fitted | None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    def fit_trend(trend: str | None) -> Any:
        return ExponentialSmoothing(
            values,
            trend=trend,
            damped_trend=trend is not None,
            seasonal="add",
            seasonal_periods=WEEK,
        ).fit()

    best = _lowest_aic(fit_trend, (None, "add"))
    if best is None:
        return None
    damped = best.model.damped_trend
    return DampedSeasonal(
        level=float(best.level[-1]),
        trend=float(best.trend[-1]) if damped else 0.0,
        damping=float(best.params["damping_trend"]) if damped else 0.0,
        season=np.array(best.season[-WEEK:]),
    )


def _differences(values: np.ndarray) -> int:
    """1 when the week-on-week changes are not stationary by the KPSS test at 5 % (a level
    that wanders), else 0: the order of differencing besides the seasonal one."""
    from statsmodels.tsa.stattools import kpss

    weekly = values[WEEK:] - values[:-WEEK]
    if np.ptp(weekly) == 0:
        return 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # p-values beyond the table's range
        p_value = kpss(weekly, regression="c", nlags="auto")[1]
    return int(p_value < KPSS_LEVEL)


def _arima(values: np.ndarray) -> Fitted | None:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    values = values[-ARIMA_DAYS:]

    def fit_order(option: tuple[tuple[int, int, int], str]) -> Any:
        order, trend = option
        return SARIMAX(
            values,
            order=order,
            seasonal_order=ARIMA_SEASONAL_ORDER,
            trend=trend,
            concentrate_scale=True,
        ).fit(disp=False)

    best = _lowest_aic(fit_order, ARIMA_OPTIONS[_differences(values)])
    if best is None:
        return None
    model = best.filter_results
    return StateSpace(
        design=model.design[0, :, 0].copy(),
        intercept=float(model.obs_intercept[0, -1]),
        transition=model.transition[:, :, -1].copy(),
        shift=model.state_intercept[:, -1].copy(),
        state=model.predicted_state[:, -1].copy(),
    )


def _statistical(
    fit_values: Callable[[np.ndarray], Fitted | None],
) -> Callable[[pd.Series], Fitted]:
    """Fits on the last LAST_YEAR days; the seasonal naive forecast stands in when the
    history is too short, no specification fits, or the forecast is not finite."""

    def fit(series: pd.Series) -> Fitted:
        fitted = None
        if len(series) >= STATS_MIN_DAYS:
            fitted = fit_values(series.to_numpy(dtype=float)[-LAST_YEAR:])
        if fitted is None or not np.isfinite(fitted.predict(MAX_FORECAST_HORIZON)).all():
            return _seasonal_naive(series)
        return fitted

    return fit


FITTERS: dict[CandidateName, Callable[[pd.Series], Fitted]] = {
    "seasonal_naive": _seasonal_naive,
    "weekday_mean_28": _weekday_mean(28),
    "weekday_mean_90": _weekday_mean(90),
    "RandomForestRegressor": _recursive("RandomForestRegressor"),
    "LinearRegression": _recursive("LinearRegression"),
    "ETS": _statistical(_ets),
    "ARIMA": _statistical(_arima),
    "Theta": _statistical(theta),
    "ProfileTrend": _statistical(profile_trend),
}
# What each method needs, in days of history: a week to repeat, the warm-up of the lags and
# rolling windows plus as many days again to learn from.
MIN_DAYS: dict[CandidateName, int] = {
    "seasonal_naive": WEEK,
    "weekday_mean_28": WEEK,
    "weekday_mean_90": WEEK,
    "RandomForestRegressor": 2 * WARM_UP_DAYS,
    "LinearRegression": 2 * WARM_UP_DAYS,
    "ETS": STATS_MIN_DAYS,
    "ARIMA": STATS_MIN_DAYS,
    "Theta": STATS_MIN_DAYS,
    "ProfileTrend": STATS_MIN_DAYS,
}
MIN_DAYS["ensemble"] = max(MIN_DAYS[member] for member in ENSEMBLE_MEMBERS)
MIN_DAYS["auto"] = STATS_MIN_DAYS  # what the most demanding of its pool needs (see `choice`)


def fit(name: CandidateName, series: pd.Series) -> Fitted:
    """The named method fitted on a dense daily series."""
    if name == "ensemble":
        return Median([FITTERS[member](series) for member in ENSEMBLE_MEMBERS])
    return FITTERS[name](series)
