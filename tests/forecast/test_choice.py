"""`auto`: the choice per series, its intervals on a trending series, its explanation, and a
saved model of the previous format refused (then retrained) rather than served."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.core.store import ArtifactInvalid, ArtifactStore
from app.forecast import backtest, choice
from app.forecast.level import profile_trend, theta
from app.forecast.model import ForecastModel, OutdatedFormat, train_forecaster

KEY = b"test-signing-key"

DAYS = 120


def shop(days: int, seed: int, growth_a_quarter: float) -> pd.Series:
    """Daily sales with weekends 40 % up, 8 % multiplicative noise, and a steady growth."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-01-05", periods=days, freq="D")
    trend = (1 + growth_a_quarter) ** (np.arange(days) / 91)
    pattern = np.where(index.day_of_week >= 5, 1.4, 1.0)
    return pd.Series(1000 * trend * pattern * rng.lognormal(0, 0.08, days), index=index)


def test_level_methods_follow_a_trend_and_keep_the_week() -> None:
    values = shop(DAYS, seed=0, growth_a_quarter=0.3).to_numpy()

    for fitted in (theta(values), profile_trend(values)):
        assert fitted is not None
        ahead = fitted.predict(28)
        assert ahead[21:].mean() > 1.02 * ahead[:7].mean()  # 30 % a quarter: 6 % in 3 weeks
        weekend = (np.arange(28) + DAYS) % 7 >= 5  # day 0, 2026-01-05, is a Monday
        assert ahead[weekend].mean() > 1.25 * ahead[~weekend].mean()


@pytest.mark.slow
def test_a_trending_series_gets_a_trend_capable_method_and_a_flat_one_no_trend() -> None:
    growing = train_forecaster(shop(DAYS, 1, 0.3), "auto", choice.CATEGORY_POOL)
    flat = train_forecaster(shop(DAYS, 1, 0.0), "auto", choice.CATEGORY_POOL)

    assert set(growing.members) & choice.TREND_CAPABLE
    rising = growing.forecast(growing.last_day + pd.Timedelta(days=1), 28)["predicted"]
    assert rising.iloc[21:].mean() > 1.02 * rising.iloc[:7].mean()
    level = flat.forecast(flat.last_day + pd.Timedelta(days=1), 28)["predicted"]
    assert abs(level.iloc[21:].mean() / level.iloc[:7].mean() - 1) < 0.02
    assert "the best 3 of 5 methods" in growing.explanation
    assert growing.runner_up in growing.backtest


@pytest.mark.slow
def test_the_80_percent_band_covers_about_80_percent_of_a_growing_series() -> None:
    """Ten shops growing 30 % a quarter, each trained on 120 days and checked on the next 28:
    the band, calibrated on errors relative to each origin's level, holds about 80 %."""
    inside = []
    for seed in range(10):
        series = shop(DAYS + 28, seed, 0.3)
        model = train_forecaster(series.iloc[:DAYS], "auto", choice.CATEGORY_POOL)
        band = model.forecast(series.index[DAYS], 28, level=80)
        actual = series.iloc[DAYS:].to_numpy()
        inside.append((actual >= band["lower"]) & (actual <= band["upper"]))

    assert 0.72 <= float(np.mean(inside)) <= 0.88


def test_the_band_grows_with_the_level() -> None:
    errors = [np.linspace(-0.1, 0.1, 21)]
    small, large = (
        ForecastModel(
            model_type="auto",
            served="auto",
            fitted=theta(np.full(60, level)) or pytest.fail("no fit"),
            last_day=pd.Timestamp("2026-03-01"),
            errors_by_week=errors,
            backtest={},
            scale=backtest.level(np.full(60, level)),
        ).forecast(pd.Timestamp("2026-03-02"), 7)
        for level in (100.0, 1000.0)
    )

    np.testing.assert_allclose(
        (large["upper"] - large["lower"]).to_numpy(),
        10 * (small["upper"] - small["lower"]).to_numpy(),
    )


def test_a_better_single_method_in_the_table_is_given_a_reason() -> None:
    table = {
        "seasonal_naive": {"mase_h7": 1.0, "mase_h28": 1.1},
        "ETS": {"mase_h7": 0.6, "mase_h28": 0.7},
        "Theta": {"mase_h7": 0.7, "mase_h28": 0.8},
        "weekday_mean_28": {"mase_h7": 0.8, "mase_h28": 0.8},
        "auto": {"mase_h7": 0.65, "mase_h28": 0.75},
    }

    sentence = choice.explain(table, ["ETS", "Theta", "weekday_mean_28"], 7, 12)

    assert sentence.startswith("The median of ETS, Theta and the 28-day weekday mean, the best 3")
    assert "of 7 methods over 12 origins, MASE 0.65 at 7 days" in sentence
    assert "seasonal naive's 1.00" in sentence
    assert "ETS alone scored better here, but" in sentence


def _saved(store: ArtifactStore, model: ForecastModel, version: str) -> str:
    store.save("forecast", model, {"model_type": "ensemble", "version": version})
    return version


def test_a_saved_model_of_the_previous_format_is_refused_not_served(tmp_path: Path) -> None:
    """The loader refuses it as invalid, which has the model retrained (see
    app/core/lifecycle/loading.py), instead of serving bands of absolute errors scaled again."""
    store = ArtifactStore(tmp_path, KEY)
    current = ForecastModel(
        model_type="ensemble",
        served="ensemble",
        fitted=theta(np.full(60, 5.0)) or pytest.fail("no fit"),
        last_day=pd.Timestamp("2026-03-01"),
        errors_by_week=[],
        backtest={},
    )
    first = _saved(store, current, "20261123T000000Z-aaaaaa")
    loaded, _ = store.load("forecast", first, "ensemble")
    assert isinstance(loaded, ForecastModel)
    assert loaded.last_day == current.last_day
    current.__dict__.pop("format")  # as the previous format was saved: without one

    with pytest.raises(ArtifactInvalid, match="OutdatedFormat"):
        store.load("forecast", _saved(store, current, "20261124T000000Z-bbbbbb"), "ensemble")
    with pytest.raises(OutdatedFormat, match="format 1 is not 2"):
        ForecastModel.__new__(ForecastModel).__setstate__(dict(vars(current)))
