"""ETS and ARIMA, the statsmodels candidates: they learn a weekly pattern, and stand aside for the
seasonal naive forecast whenever their fit fails or gives no finite forecast."""

from typing import get_args

import numpy as np
import pandas as pd
import pytest

from app.forecast import candidates
from app.forecast.candidates import CandidateName, DampedSeasonal, SeasonalNaive, fit

STATISTICAL: list[CandidateName] = ["ETS", "ARIMA"]


def weekday_pattern(days: int, seed: int) -> pd.Series:
    """Each weekday its own level (Saturday three times Monday's), plus noise."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-01-05", periods=days, freq="D")
    levels = np.array([500.0, 600.0, 650.0, 700.0, 1000.0, 1500.0, 900.0])
    return pd.Series(levels[index.day_of_week] + rng.normal(0, 50, days), index=index)


@pytest.mark.parametrize("name", STATISTICAL)
def test_a_weekly_pattern_is_forecast_far_better_than_a_flat_mean(name: CandidateName) -> None:
    series = weekday_pattern(148, seed=4)
    history, actual = series.iloc[:120], series.iloc[120:].to_numpy()

    fitted = fit(name, history)
    forecast = fitted.predict(28)

    assert not isinstance(fitted, SeasonalNaive)
    flat_error = np.abs(actual - history.mean()).mean()
    assert np.abs(actual - forecast).mean() < 0.3 * flat_error


@pytest.mark.parametrize("name", STATISTICAL)
@pytest.mark.parametrize(
    "values",
    [np.zeros(60), np.full(60, 250.0), np.arange(10.0), np.r_[np.zeros(59), 1e6]],
    ids=["zeros", "constant", "ten days", "one spike"],
)
def test_forecasts_stay_finite_and_never_negative(name: CandidateName, values: np.ndarray) -> None:
    series = pd.Series(values, index=pd.date_range("2026-01-05", periods=len(values), freq="D"))

    forecast = fit(name, series).predict(60)

    assert np.isfinite(forecast).all()
    assert (forecast >= 0).all()


@pytest.mark.parametrize("name", STATISTICAL)
def test_a_failed_fit_falls_back_to_the_seasonal_naive_forecast(
    name: CandidateName, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise np.linalg.LinAlgError("Schur decomposition solver error.")

    monkeypatch.setattr("statsmodels.tsa.holtwinters.ExponentialSmoothing.fit", fail)
    monkeypatch.setattr("statsmodels.tsa.statespace.sarimax.SARIMAX.fit", fail)
    series = weekday_pattern(90, seed=1)

    fitted = fit(name, series)

    assert isinstance(fitted, SeasonalNaive)
    np.testing.assert_array_equal(fitted.predict(7), series.to_numpy()[-7:])


def test_a_forecast_that_is_not_finite_falls_back_to_the_seasonal_naive_one() -> None:
    def diverged(_values: np.ndarray) -> DampedSeasonal:
        return DampedSeasonal(level=np.nan, trend=0.0, damping=0.0, season=np.zeros(7))

    series = weekday_pattern(90, seed=2)

    fitted = candidates._statistical(diverged)(series)

    assert isinstance(fitted, SeasonalNaive)


def test_the_lowest_aic_among_the_specifications_that_fit_is_kept() -> None:
    class Result:
        def __init__(self, aic: float) -> None:
            self.aic = aic

    def fit_one(aic: float) -> Result:
        if aic < 0:
            raise ValueError("does not fit")
        return Result(aic)

    best = candidates._lowest_aic(fit_one, [30.0, -1.0, np.nan, 20.0, 25.0])

    assert best is not None
    assert best.aic == 20.0
    assert candidates._lowest_aic(fit_one, [-1.0, np.nan]) is None


def test_damped_trend_adds_less_each_day_ahead() -> None:
    fitted = DampedSeasonal(level=100.0, trend=10.0, damping=0.5, season=np.zeros(7))

    np.testing.assert_allclose(fitted.predict(3), [105.0, 107.5, 108.75])


def test_every_method_the_setting_accepts_has_a_fitter_and_a_minimum_history() -> None:
    names = set(get_args(CandidateName))

    assert set(candidates.FITTERS) == names - {"ensemble", "auto"}  # combinations of fitters
    assert set(candidates.ENSEMBLE_MEMBERS) <= set(candidates.FITTERS)
    assert set(candidates.MIN_DAYS) == names


@pytest.mark.parametrize("name", [n for n in get_args(CandidateName) if n != "auto"])
def test_every_method_fits_its_minimum_history(name: CandidateName) -> None:
    history = weekday_pattern(candidates.MIN_DAYS[name], seed=2)

    forecast = fit(name, history).predict(14)

    assert forecast.shape == (14,)
    assert np.isfinite(forecast).all()
    assert (forecast >= 0).all()
