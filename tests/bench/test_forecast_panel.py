"""The panel's own arithmetic: origins, seasonal naive and the scores (no model is trained)."""

import numpy as np
import pandas as pd
import pytest

from bench.forecast_panel import score, seasonal_naive
from bench.panel_cases import HORIZON, SPACING, origins


def _weekly(days: int) -> pd.Series:
    index = pd.date_range("2024-01-01", periods=days, freq="D")
    return pd.Series(np.tile([10.0, 20, 30, 40, 50, 60, 0], days // 7 + 1)[:days], index=index)


def test_origins_leave_a_whole_horizon_and_a_whole_history() -> None:
    series = _weekly(200)
    found = origins(series, 90, 4)
    assert len(found) == 4
    assert found[-1] == series.index[-HORIZON]
    assert (found[-1] - found[-2]).days == SPACING
    assert all((origin - series.index[0]).days >= 90 for origin in found)
    assert len(origins(series, 180, 4)) == 0


def test_seasonal_naive_repeats_the_last_week_and_a_perfect_forecast_scores_zero() -> None:
    history, actual = _weekly(91), _weekly(119).to_numpy()[91:]
    forecast, _ = seasonal_naive(history)
    assert np.array_equal(forecast["mean"], actual)  # the series repeats exactly
    scores = score(forecast, actual, history)
    assert scores["mase_h7"] == 0.0
    assert scores["wape"] == 0.0
    assert scores["cov80"] == 1.0


def test_scores_say_how_far_and_which_way() -> None:
    history, actual = _weekly(91), _weekly(119).to_numpy()[91:]
    high = {"mean": actual * 1.1, "lo80": actual * 1.05, "hi80": actual * 1.2}
    high |= {"lo95": actual * 0.9, "hi95": actual * 1.3}
    scores = score(high, actual, history)
    assert scores["bias"] == pytest.approx(0.1)
    assert scores["wape"] == pytest.approx(0.1)
    assert scores["cov80"] == pytest.approx(1 / 7)  # only the days of zero sales are inside
    assert scores["cov95"] == 1.0
    assert scores["mase_h28"] > 0
