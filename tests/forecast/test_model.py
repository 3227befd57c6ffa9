"""The forecasting methods, the backtest and the intervals, on constructed series."""

import pickle

import numpy as np
import pandas as pd
import pytest

from app.errors import NotEnoughData
from app.forecast import backtest
from app.forecast.candidates import Recursive, fit
from app.forecast.features import FEATURE_NAMES, make_features
from app.forecast.inputs import ForecastInput
from app.forecast.model import (
    PRECOMPUTED_DAYS,
    RECENT_DAYS,
    ForecastModel,
    ForecastModelType,
    fit_model,
    train_forecaster,
    train_forecasters,
)
from tests.factories import weekly_series


def noisy_weekly(days: int, seed: int, noise: float = 100.0) -> pd.Series:
    """A flat weekly pattern (weekends 40 % up) plus normal noise of known spread."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-01-05", periods=days, freq="D")
    pattern = np.where(index.day_of_week >= 5, 1400.0, 1000.0)
    return pd.Series(pattern + rng.normal(0, noise, days), index=index)


def test_features_of_a_day_never_see_that_day() -> None:
    series = weekly_series(40)
    changed = series.copy()
    changed.iloc[30] = 1e9

    original = make_features(series.to_numpy(), series.index, series.index[0])
    altered = make_features(changed.to_numpy(), changed.index, changed.index[0])

    pd.testing.assert_series_equal(original.iloc[30], altered.iloc[30])
    assert altered.iloc[31]["lag_1"] == 1e9
    assert list(original.columns) == list(FEATURE_NAMES)


@pytest.mark.slow
@pytest.mark.parametrize(
    "model_type",
    [
        "ensemble",
        "RandomForestRegressor",
        "LinearRegression",
        "seasonal_naive",
        "weekday_mean_28",
        "ETS",
        "ARIMA",
    ],
)
def test_forecast_follows_the_weekly_pattern(model_type: ForecastModelType) -> None:
    series = weekly_series()
    model = train_forecaster(series, model_type)

    forecast = model.forecast(series.index[-1] + pd.Timedelta(days=1), 14)["predicted"]

    weekend = forecast[forecast.index.day_of_week >= 5].mean()
    weekday = forecast[forecast.index.day_of_week < 5].mean()
    assert weekend > 1.2 * weekday
    assert (forecast >= 0).all()
    assert model.served == model_type


@pytest.mark.parametrize("model_type", ["LinearRegression", "RandomForestRegressor"])
def test_recursive_forecast_feeds_each_day_to_the_next(model_type: ForecastModelType) -> None:
    series = weekly_series()
    fitted = fit(model_type, series)
    assert isinstance(fitted, Recursive)

    forecast = fitted.predict(3)

    index = pd.date_range(series.index[-1] + pd.Timedelta(days=1), periods=3, freq="D")
    extended = pd.concat([series, pd.Series(forecast, index=index)])
    rows = make_features(extended.to_numpy(), extended.index, fitted.origin).iloc[-3:]
    assert rows["lag_1"].iloc[1:].tolist() == forecast[:2].tolist()
    expected = fitted.estimator.predict(rows[fitted.feature_names])
    np.testing.assert_allclose(forecast, np.maximum(expected, 0), rtol=1e-9)


def test_backtest_scores_a_weekly_pattern_better_than_naive() -> None:
    """On a stable weekly pattern with noise, a weekday mean averages the noise out, while the
    seasonal naive forecast repeats last week's noise: MASE well under the naive's."""
    table = backtest.run(noisy_weekly(150, seed=3), ["seasonal_naive", "weekday_mean_90"]).table()

    assert table["seasonal_naive"]["origins"] == backtest.ORIGINS
    for h in (7, 28):
        assert table["weekday_mean_90"][f"mase_h{h}"] < 0.85 * table["seasonal_naive"][f"mase_h{h}"]
        assert abs(table["weekday_mean_90"][f"bias_h{h}"]) < 0.05


def test_intervals_cover_about_their_level_on_known_noise() -> None:
    """Over twenty series, each trained on 122 days and checked on the next 28, the 80 % band
    holds about 80 % of the actual days."""
    inside = []
    for seed in range(20):
        series = noisy_weekly(150, seed)
        history = series.iloc[:122]
        model = ForecastModel(
            model_type="weekday_mean_90",
            served="weekday_mean_90",
            fitted=fit("weekday_mean_90", history),
            last_day=history.index[-1],
            errors_by_week=backtest.run(history, ["weekday_mean_90"]).errors_by_week(
                "weekday_mean_90"
            ),
            backtest={},
            scale=backtest.level(history.to_numpy()),
        )
        band = model.forecast(series.index[122], 28, level=80)
        actual = series.iloc[122:].to_numpy()
        inside.append((actual >= band["lower"]) & (actual <= band["upper"]))

    coverage = float(np.mean(inside))
    assert 0.7 <= coverage <= 0.9
    wider = model.forecast(series.index[122], 28, level=95)
    assert (wider["upper"] - wider["lower"] >= band["upper"] - band["lower"]).all()


def test_a_short_history_falls_back_and_says_so() -> None:
    model = train_forecaster(noisy_weekly(45, seed=1), "RandomForestRegressor")

    assert model.served == "weekday_mean_28"
    assert model.note is not None
    assert "RandomForestRegressor needs 58" in model.note
    band = model.forecast(model.last_day + pd.Timedelta(days=1), 7)
    assert (band["upper"] > band["lower"]).all()


def test_a_history_too_short_to_backtest_has_no_interval_and_says_so() -> None:
    model = train_forecaster(noisy_weekly(20, seed=1), "ensemble")

    band = model.forecast(model.last_day + pd.Timedelta(days=1), 7)

    assert model.note is not None
    assert model.note.endswith("Too short to backtest: the forecast has no interval yet.")
    assert (band["upper"] == band["lower"]).all()


@pytest.mark.slow
def test_the_model_keeps_the_last_eight_weeks_it_was_trained_on() -> None:
    series = noisy_weekly(90, seed=3)
    short = noisy_weekly(20, seed=3)

    model = train_forecaster(series, "seasonal_naive")

    pd.testing.assert_series_equal(model.recent, series.iloc[-RECENT_DAYS:])
    assert RECENT_DAYS == 56
    assert len(train_forecaster(short, "seasonal_naive").recent) == 20


def test_no_sales_or_less_than_a_week_is_refused() -> None:
    with pytest.raises(NotEnoughData, match="at least 7 days of history; found 5"):
        train_forecaster(weekly_series(5), "ensemble")
    with pytest.raises(NotEnoughData, match=r"total sales 0\.00"):
        train_forecaster(weekly_series(60) * 0, "ensemble")


@pytest.mark.slow
def test_forecast_after_a_gap_starts_where_asked() -> None:
    series = weekly_series()
    model = train_forecaster(series, "RandomForestRegressor")
    first_day = series.index[-1] + pd.Timedelta(days=3)

    forecast = model.forecast(first_day, 7)

    assert forecast.index[0] == first_day
    assert len(forecast) == 7
    pd.testing.assert_frame_equal(forecast.iloc[:3], model.forecast(first_day, 3))


@pytest.mark.slow
def test_horizon_out_of_range_is_refused() -> None:
    model = train_forecaster(weekly_series(), "LinearRegression")

    with pytest.raises(ValueError, match="horizon"):
        model.forecast(model.last_day + pd.Timedelta(days=1), 31)


@pytest.mark.slow
def test_every_category_with_sales_gets_a_forecaster_up_to_the_cap() -> None:
    total = noisy_weekly(120, seed=3)
    categories = pd.DataFrame(
        {
            "small": total * 0.1,
            "large": total * 0.6,
            "none": total * 0,
            "medium": total * 0.3,
        }
    )

    models = train_forecasters(total, categories, "ensemble", max_categories=2)

    assert list(models.categories) == ["large", "medium"]
    assert set(models.skipped) == {"small", "none"}
    assert "FORECAST_MAX_CATEGORIES" in models.skipped["small"]
    assert models.skipped["none"] == "No sales in the training window."
    assert set(models.categories["large"].backtest) == {"seasonal_naive", "ensemble"}
    assert "RandomForestRegressor" in models.evaluation
    assert models.metrics["categories"] == 2
    first = models.total.last_day + pd.Timedelta(days=1)
    large = models.categories["large"].forecast(first, 7)["predicted"]
    whole = models.total.forecast(first, 7)["predicted"]
    assert np.allclose(large, 0.6 * whole, rtol=0.15)


def test_a_saved_model_answers_its_first_forecasts_without_computing() -> None:
    total = noisy_weekly(20, seed=4)
    trained = fit_model(ForecastInput(total, pd.DataFrame({"a": total * 0.5}), "ensemble", 5))
    expected = trained.categories["a"].forecast(trained.total.last_day + pd.Timedelta(days=3), 7)

    loaded = pickle.loads(pickle.dumps(trained))

    for model in (loaded.total, loaded.categories["a"]):
        model.fitted = None  # any computation would fail
        today = model.last_day + pd.Timedelta(days=1)
        days = [today + pd.Timedelta(days=n) for n in range(PRECOMPUTED_DAYS)]
        assert all(model.computed(day) for day in days)
        assert not model.computed(today + pd.Timedelta(days=PRECOMPUTED_DAYS))
        assert len(model.forecast(days[-1], 30)) == 30
    answered = loaded.categories["a"].forecast(loaded.total.last_day + pd.Timedelta(days=3), 7)
    pd.testing.assert_frame_equal(answered, expected)


def test_a_forecast_past_the_computed_days_is_computed_then_kept() -> None:
    model = train_forecaster(noisy_weekly(20, seed=5), "weekday_mean_28")
    far = model.last_day + pd.Timedelta(days=PRECOMPUTED_DAYS + 5)
    assert not model.computed(far)

    forecast = model.forecast(far, 7)

    assert model.computed(far)
    expected = np.maximum(model.fitted.predict(PRECOMPUTED_DAYS + 4 + 7), 0.0)[-7:]
    assert np.allclose(forecast["predicted"], expected)
