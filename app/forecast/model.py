"""Daily sales forecasting: a regressor over calendar, lag and rolling features, rolled forward
recursively so that each predicted day feeds the features of the next."""

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from app.config import MAX_FORECAST_HORIZON as MAX_HORIZON
from app.errors import NotEnoughData
from app.forecast.features import FEATURE_NAMES, WARM_UP_DAYS, make_features

ForecastModelType = Literal["RandomForestRegressor", "LinearRegression"]
MIN_TRAINING_DAYS = 2 * WARM_UP_DAYS
HOLDOUT_SHARE = 0.2


@dataclass
class ForecastModel:
    """A fitted regressor with the feature list it was trained on and the tail of history that
    the next forecast starts from."""

    estimator: RandomForestRegressor | LinearRegression
    model_type: ForecastModelType
    feature_names: list[str]
    history: pd.Series
    origin: pd.Timestamp
    metrics: dict[str, float] = field(default_factory=dict)
    _rolled: dict[pd.Timestamp, pd.Series] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, object]:
        """Cached forecasts are not part of the saved model."""
        return {**self.__dict__, "_rolled": {}}

    @property
    def last_day(self) -> pd.Timestamp:
        return self.history.index[-1]

    def forecast(self, first_day: pd.Timestamp, horizon: int) -> pd.Series:
        """Sales of `horizon` (1..MAX_HORIZON) days from `first_day`. Days between the end of
        history and `first_day` are forecast too, recursively, but not returned. A step does not
        depend on the horizon, so the longest forecast from a day is computed once and sliced."""
        if not 1 <= horizon <= MAX_HORIZON:
            raise ValueError(f"horizon must be within 1..{MAX_HORIZON}, got {horizon}")
        if first_day <= self.last_day:
            raise ValueError(f"first_day {first_day.date()} is inside the known history")
        rolled = self._rolled.get(first_day)
        if rolled is None:
            steps = (first_day - self.last_day).days - 1 + MAX_HORIZON
            rolled = self._roll_forward(steps).iloc[-MAX_HORIZON:]
            self._rolled = {first_day: rolled}
        return rolled.iloc[:horizon]

    def _roll_forward(self, steps: int) -> pd.Series:
        values = list(self.history.to_numpy()[-(WARM_UP_DAYS + 1) :])
        day = self.last_day
        predicted: dict[pd.Timestamp, float] = {}
        for _ in range(steps):
            day = day + pd.Timedelta(days=1)
            values.append(np.nan)
            dates = pd.date_range(end=day, periods=len(values), freq="D")
            row = make_features(np.asarray(values), dates, self.origin).iloc[[-1]]
            value = max(0.0, float(self.estimator.predict(row[self.feature_names])[0]))
            values[-1] = value
            values.pop(0)
            predicted[day] = value
        return pd.Series(predicted, name="predicted_sales")


def _new_estimator(model_type: ForecastModelType) -> RandomForestRegressor | LinearRegression:
    if model_type == "RandomForestRegressor":
        return RandomForestRegressor(n_estimators=100, random_state=42, n_jobs=1)
    return LinearRegression()


def _fit(series: pd.Series, model_type: ForecastModelType, origin: pd.Timestamp) -> ForecastModel:
    features = make_features(series.to_numpy(), series.index, origin).iloc[WARM_UP_DAYS:]
    target = series.iloc[WARM_UP_DAYS:]
    estimator = _new_estimator(model_type).fit(features, target)
    return ForecastModel(
        estimator=estimator,
        model_type=model_type,
        feature_names=list(FEATURE_NAMES),
        history=series.iloc[-(WARM_UP_DAYS + 1) :].copy(),
        origin=origin,
    )


def _holdout_metrics(series: pd.Series, model_type: ForecastModelType) -> dict[str, float]:
    """Scores a recursive forecast of the last days against what happened, next to a seasonal
    naive baseline (each day equals the same weekday a week before the holdout)."""
    holdout = max(7, int(len(series) * HOLDOUT_SHARE))
    train, actual = series.iloc[:-holdout], series.iloc[-holdout:]
    model = _fit(train, model_type, series.index[0])
    predicted = model._roll_forward(holdout).to_numpy()
    last_week = train.to_numpy()[-7:]
    naive = np.resize(last_week, holdout)
    truth = actual.to_numpy()
    return {
        "mae": float(mean_absolute_error(truth, predicted)),
        "rmse": float(np.sqrt(mean_squared_error(truth, predicted))),
        "r2_score": float(r2_score(truth, predicted)),
        "baseline_seasonal_naive_mae": float(mean_absolute_error(truth, naive)),
        "holdout_days": float(holdout),
    }


def train_forecaster(series: pd.Series, model_type: ForecastModelType) -> ForecastModel:
    """Fits on a dense daily series (index: consecutive days, values: sales)."""
    if len(series) < MIN_TRAINING_DAYS or not (series > 0).any():
        raise NotEnoughData(
            f"Forecasting needs at least {MIN_TRAINING_DAYS} days of sales history; "
            f"found {len(series)} days with total sales {float(series.sum()):.2f}. "
            "Load transactions or raise DATA_COLLECTION_DAYS."
        )
    metrics = _holdout_metrics(series, model_type)
    model = _fit(series, model_type, series.index[0])
    model.metrics = {**metrics, "training_days": float(len(series))}
    return model
