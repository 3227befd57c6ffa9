import numpy as np
import pandas as pd
import pytest

from app.errors import NotEnoughData
from app.forecast.features import FEATURE_NAMES, make_features
from app.forecast.model import ForecastModelType, train_forecaster
from tests.factories import weekly_series


def test_features_of_a_day_never_see_that_day() -> None:
    series = weekly_series(40)
    changed = series.copy()
    changed.iloc[30] = 1e9

    original = make_features(series.to_numpy(), series.index, series.index[0])
    altered = make_features(changed.to_numpy(), changed.index, changed.index[0])

    pd.testing.assert_series_equal(original.iloc[30], altered.iloc[30])
    assert altered.iloc[31]["lag_1"] == 1e9
    assert list(original.columns) == list(FEATURE_NAMES)


@pytest.mark.parametrize("model_type", ["RandomForestRegressor", "LinearRegression"])
def test_forecast_follows_the_weekly_pattern(model_type: ForecastModelType) -> None:
    series = weekly_series()
    model = train_forecaster(series, model_type)

    forecast = model.forecast(series.index[-1] + pd.Timedelta(days=1), 14)

    weekend = forecast[forecast.index.day_of_week >= 5].mean()
    weekday = forecast[forecast.index.day_of_week < 5].mean()
    assert weekend > 1.2 * weekday
    assert (forecast >= 0).all()
    assert model.metrics["mae"] < model.metrics["baseline_seasonal_naive_mae"] * 2


def test_forecast_is_recursive_each_day_feeding_the_next() -> None:
    series = weekly_series()
    model = train_forecaster(series, "LinearRegression")
    first_day = series.index[-1] + pd.Timedelta(days=1)

    forecast = model.forecast(first_day, 3)

    extended = pd.concat([series, forecast])
    rows = make_features(extended.to_numpy(), extended.index, model.origin).iloc[-3:]
    assert rows["lag_1"].iloc[1:].tolist() == forecast.iloc[:2].tolist()
    expected = model.estimator.predict(rows[model.feature_names])
    np.testing.assert_allclose(forecast.to_numpy(), np.maximum(expected, 0), rtol=1e-9)


def test_forecast_after_a_gap_starts_where_asked() -> None:
    series = weekly_series()
    model = train_forecaster(series, "RandomForestRegressor")
    first_day = series.index[-1] + pd.Timedelta(days=3)

    forecast = model.forecast(first_day, 7)

    assert forecast.index[0] == first_day
    assert len(forecast) == 7
    assert forecast.iloc[:3].tolist() == model.forecast(first_day, 3).tolist()


def test_trained_feature_list_is_enforced() -> None:
    model = train_forecaster(weekly_series(), "LinearRegression")
    model.feature_names = [*model.feature_names[:-1], "not_a_feature"]

    with pytest.raises(KeyError, match="not_a_feature"):
        model.forecast(model.last_day + pd.Timedelta(days=1), 1)


def test_too_short_a_history_is_refused() -> None:
    with pytest.raises(NotEnoughData, match="at least 28 days"):
        train_forecaster(weekly_series(20), "LinearRegression")


def test_horizon_out_of_range_is_refused() -> None:
    model = train_forecaster(weekly_series(), "LinearRegression")

    with pytest.raises(ValueError, match="horizon"):
        model.forecast(model.last_day + pd.Timedelta(days=1), 31)
