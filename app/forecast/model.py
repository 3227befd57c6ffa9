"""Daily sales forecasting: the configured method (by default `auto`, chosen per series: see
`choice`), backtested at every training against the candidates, with prediction intervals
calibrated on its own backtest errors.

The intervals are split-conformal: for a forecast `w` weeks ahead, the band is the point
forecast plus the (1 - level) / 2 and (1 + level) / 2 quantiles of the backtest's signed errors
at that many weeks ahead, each relative to its origin's level and scaled back by today's level
(so a growing series gets a growing band); no distribution is assumed. Sales are never
negative: the band is clipped at zero."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.config import MAX_FORECAST_HORIZON as MAX_HORIZON
from app.errors import NotEnoughData
from app.forecast import backtest, choice
from app.forecast.candidates import (
    FITTERS,
    MIN_DAYS,
    WEEK,
    CandidateName,
    Fitted,
    Median,
    Recursive,
    fit,
)
from app.forecast.features import FEATURE_NAMES
from app.forecast.inputs import ForecastInput

ForecastModelType = CandidateName
MIN_TRAINING_DAYS = MIN_DAYS["RandomForestRegressor"]
FALLBACK: CandidateName = "weekday_mean_28"  # served when the history is too short
RECENT_DAYS = 8 * WEEK  # the end of the training series kept with the model, to be shown
# First days after the history whose forecasts a training computes: today, and the next days
# while no newer model replaces it (a daily retraining that fails, a week of them).
PRECOMPUTED_DAYS = 8
# The saved model's format: a model saved in another one is refused when loaded, and retrained
# (2: relative interval errors, `auto` and its explanation, the forecast computed at training).
FORMAT = 2


class OutdatedFormat(ValueError):
    """A saved forecast model of an earlier format: its bands and fields are not this code's."""


@dataclass
class ForecastModel:
    """The fitted method, the day its history ends, and its backtest; `recent` holds the last
    RECENT_DAYS of the series it was trained on, so that actual sales can be shown beside the
    forecast without reading the database again."""

    model_type: ForecastModelType  # as configured
    served: CandidateName  # what is served: the configured method, or the fallback
    fitted: Fitted
    last_day: pd.Timestamp
    errors_by_week: list[np.ndarray]
    backtest: dict[str, dict[str, float]]
    note: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    recent: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    scale: float = 1.0  # today's level, by which the relative errors are multiplied
    members: tuple[CandidateName, ...] = ()  # what `auto` combines
    explanation: str = ""  # what is served and why, in a sentence
    runner_up: str | None = None  # the backtest's best other row
    format: int = FORMAT
    _path: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)

    def __setstate__(self, state: dict[str, object]) -> None:
        """Refuses a model of another format (the loader then has it retrained)."""
        if state.get("format") != FORMAT:
            raise OutdatedFormat(
                f"forecast model format {state.get('format', 1)} is not {FORMAT}: retrain it"
            )
        self.__dict__.update(state)

    @property
    def feature_names(self) -> list[str]:
        fitted = self.fitted.members if isinstance(self.fitted, Median) else [self.fitted]
        return list(FEATURE_NAMES) if any(isinstance(f, Recursive) for f in fitted) else []

    def precompute(self, first_days: int = PRECOMPUTED_DAYS) -> None:
        """Computes, once, the forecast from each of the `first_days` days after the history,
        every horizon: the worker does it at training and the saved model keeps it, so the first
        request after a training, a restart or UTC midnight only slices it."""
        self._extend(first_days - 1 + MAX_HORIZON)

    def computed(self, first_day: pd.Timestamp) -> bool:
        """Whether the forecast from `first_day` is already computed: then asking for it costs
        microseconds, and a caller need not hand it to a thread."""
        gap = int((first_day - self.last_day).days) - 1
        return gap >= 0 and gap + MAX_HORIZON <= len(self._path)

    def forecast(self, first_day: pd.Timestamp, horizon: int, level: int = 80) -> pd.DataFrame:
        """Sales of `horizon` (1..MAX_HORIZON) days from `first_day`, with the `level` % band
        (`lower`, `upper`). Days between the end of history and `first_day` are forecast too,
        but not returned: every forecast is a slice of one path from the day after history."""
        if not 1 <= horizon <= MAX_HORIZON:
            raise ValueError(f"horizon must be within 1..{MAX_HORIZON}, got {horizon}")
        if first_day <= self.last_day:
            raise ValueError(f"first_day {first_day.date()} is inside the known history")
        gap = (first_day - self.last_day).days - 1
        point = self._extend(gap + MAX_HORIZON)[gap : gap + horizon]
        steps_ahead = np.arange(gap, gap + horizon)
        low, high = self._band(steps_ahead, level)
        index = pd.date_range(first_day, periods=horizon, freq="D")
        # The band always holds the point forecast, even when every backtest error of a week
        # had the same sign; sales are never negative.
        return pd.DataFrame(
            {
                "predicted": point,
                "lower": np.maximum(np.minimum(point + low, point), 0.0),
                "upper": np.maximum(point + high, point),
            },
            index=index,
        )

    def _extend(self, days: int) -> np.ndarray:
        """The forecast path of at least `days` days from the day after the history."""
        path = self._path
        if len(path) < days:
            path = np.maximum(self.fitted.predict(days), 0.0)
            self._path = path
        return path

    def _band(self, steps_ahead: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
        """The error quantiles of each day's week ahead (the last week measured serves beyond);
        none when no backtest could be run (too short a history: see `note`)."""
        if not self.errors_by_week:
            return np.zeros(len(steps_ahead)), np.zeros(len(steps_ahead))
        weeks = np.minimum(steps_ahead // WEEK, len(self.errors_by_week) - 1)
        alpha = (1 - level / 100) / 2
        low = np.array([_quantile(errors, alpha) for errors in self.errors_by_week])
        high = np.array([_quantile(errors, 1 - alpha) for errors in self.errors_by_week])
        return low[weeks] * self.scale, high[weeks] * self.scale


def _quantile(sorted_errors: np.ndarray, q: float) -> float:
    """The split-conformal quantile of n sorted errors: for an upper end, the ceil((n + 1) q)-th
    smallest; for a lower end, mirrored, the floor((n + 1) q)-th (minus infinity when there is
    none: the band then reaches zero). Beyond the largest error, the largest serves."""
    n = len(sorted_errors)
    if n == 0:
        return 0.0
    if q < 0.5:
        rank = int(np.floor((n + 1) * q))
        return float(sorted_errors[rank - 1]) if rank >= 1 else -np.inf
    rank = int(np.ceil((n + 1) * q))
    return float(sorted_errors[min(rank, n) - 1])


def train_forecaster(
    series: pd.Series,
    model_type: ForecastModelType,
    backtested: Sequence[CandidateName] | None = None,
) -> ForecastModel:
    """Backtests the `backtested` candidates (by default `auto`'s pool for `auto`, every
    candidate otherwise) on a dense daily series (index: consecutive days, values: sales), then
    fits the configured method, or a simpler one when the history is too short; the served
    method is always backtested."""
    series = series.where(np.isfinite(series), 0.0)  # an overflowing day sum is not a sale
    if len(series) < WEEK:
        raise NotEnoughData(
            f"Forecasting needs at least {WEEK} days of history; found {len(series)}. Load "
            "transactions or raise DATA_COLLECTION_DAYS."
        )
    if not (series > 0).any():
        raise NotEnoughData(
            f"Forecasting needs at least {MIN_TRAINING_DAYS} days of sales history; found "
            f"{len(series)} days with total sales {float(series.sum()):.2f}. Load transactions "
            "or raise DATA_COLLECTION_DAYS."
        )
    if backtested is None:
        backtested = choice.POOL if model_type == "auto" else (*FITTERS, "ensemble")
    served, note = model_type, None
    needs = MIN_DAYS[model_type] + backtest.HORIZON
    if len(series) < needs and MIN_DAYS[model_type] > MIN_DAYS[FALLBACK]:
        served = FALLBACK
        note = (
            f"Only {len(series)} days of history: {model_type} needs {needs} to be fitted and "
            f"backtested, so the {FALLBACK} forecast is served."
        )
    if len(series) < MIN_DAYS[served] + backtest.HORIZON:
        too_short = "Too short to backtest: the forecast has no interval yet."
        note = f"{note} {too_short}" if note else too_short
    pool = [name for name in backtested if name != "auto"]
    names = [*pool, served] if served != "auto" else pool
    tested = backtest.run(series, list(dict.fromkeys(names)))
    members: tuple[CandidateName, ...] = ()
    if served == "auto" and tested.errors:
        chosen = choice.choose(tested, pool)
        members = chosen.members
        tested.errors["auto"] = chosen.errors
        tested.actuals["auto"] = tested.actuals[members[0]]
        tested.scales["auto"] = tested.scales[members[0]]
    elif served == "auto":
        served = FALLBACK
    table = tested.table()
    model = ForecastModel(
        model_type=model_type,
        served=served,
        fitted=_fitted(served, members, series),
        last_day=series.index[-1],
        errors_by_week=tested.errors_by_week(served) if served in tested.errors else [],
        backtest=table,
        note=note,
        recent=series.iloc[-RECENT_DAYS:].copy(),
        scale=backtest.level(series.to_numpy()),
        members=members,
        runner_up=min(
            (name for name in table if name != served),
            key=lambda name: choice.score(table[name]),
            default=None,
        ),
    )
    origins = int(table.get(served, {}).get("origins", 0))
    model.explanation = (
        choice.explain(table, members, len(pool), origins)
        if members
        else choice.configured(table, served, model_type)
    )
    naive = table.get("seasonal_naive", {})
    model.metrics = {
        **table.get(served, {}),
        **{f"seasonal_naive_{k}": v for k, v in naive.items() if k.startswith("mase")},
        "training_days": float(len(series)),
    }
    return model


def _fitted(served: CandidateName, members: Sequence[CandidateName], series: pd.Series) -> Fitted:
    """The served method fitted on the whole series: `auto`'s members' median, or one method."""
    if served != "auto":
        return fit(served, series)
    if len(members) == 1:
        return FITTERS[members[0]](series)
    return Median([FITTERS[name](series) for name in members])


@dataclass
class Forecasters:
    """What the registry serves as the forecast model: the total's forecaster, and one per
    product category, each with its own backtest and intervals."""

    total: ForecastModel
    categories: dict[str, ForecastModel]
    skipped: dict[str, str]  # category: why it has no forecaster

    @property
    def metrics(self) -> dict[str, float]:
        return {**self.total.metrics, "categories": float(len(self.categories))}

    @property
    def feature_names(self) -> list[str]:
        return self.total.feature_names

    @property
    def explanation(self) -> str:
        """What the total's forecast serves and why."""
        return self.total.explanation

    @property
    def evaluation(self) -> dict[str, dict[str, float]]:
        """The total's backtest table, every candidate's row."""
        return self.total.backtest


def train_forecasters(
    total: pd.Series, categories: pd.DataFrame, model_type: ForecastModelType, max_categories: int
) -> Forecasters:
    """The total is backtested against every candidate (`auto`'s pool for `auto`); each
    category, of the `max_categories` largest by sales, against seasonal naive only, or, for
    `auto`, chosen among the methods fitted in milliseconds (choice.CATEGORY_POOL), which keeps
    a training with dozens of categories within a minute. A category too short or without
    sales is skipped with the reason."""
    model = train_forecaster(total, model_type)
    by_size = categories.sum().sort_values(ascending=False, kind="stable")
    fitted: dict[str, ForecastModel] = {}
    skipped = {str(c): "No sales in the training window." for c in by_size.index[by_size <= 0]}
    for rank, category in enumerate(by_size.index[by_size > 0]):
        if rank >= max_categories:
            skipped[category] = (
                f"Not among the {max_categories} categories with the most sales "
                "(FORECAST_MAX_CATEGORIES)."
            )
            continue
        try:
            fitted[category] = train_forecaster(
                categories[category],
                model_type,
                choice.CATEGORY_POOL if model_type == "auto" else ("seasonal_naive", model_type),
            )
        except NotEnoughData as exc:
            skipped[category] = exc.detail
    return Forecasters(model, fitted, skipped)


def fit_model(data: ForecastInput) -> Forecasters:
    """The worker process's entry point (`ForecastService.fit`): the forecasts requests ask for
    are computed here, not in the API."""
    fitted = train_forecasters(data.total, data.categories, data.model_type, data.max_categories)
    for model in (fitted.total, *fitted.categories.values()):
        model.precompute()
    return fitted
