"""Stress series for the forecast panel: a real daily series (its weekday shape, holidays, noise)
with a level that moves in a known way.

- `trend`: compounding growth or decline, e.g. +30 % or -30 % a quarter;
- `level_shift`: the level multiplied by 1 + change from a day on (-40 %: a shop that loses a
  large customer; +40 %: one that opens a new channel);
- `new_year_ramp`: from 1 January, the level rises linearly to 1 + gain over `weeks` weeks
  and stays there (a shop whose new range or campaign starts with the year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

QUARTER_DAYS = 365.25 / 4


def _days(series: pd.Series) -> np.ndarray:
    index = pd.DatetimeIndex(series.index)
    return np.asarray((index - index[0]).days, dtype=float)


def trend(series: pd.Series, per_quarter: float) -> pd.Series:
    """The series times (1 + per_quarter) ** (days since its start / a quarter's days)."""
    if per_quarter <= -1:
        raise ValueError("per_quarter must be above -1")
    return series * (1 + per_quarter) ** (_days(series) / QUARTER_DAYS)


def level_shift(series: pd.Series, change: float, at: pd.Timestamp) -> pd.Series:
    """The series times 1 + change from `at` on (the days before unchanged)."""
    if change <= -1:
        raise ValueError("change must be above -1")
    after = pd.DatetimeIndex(series.index) >= at
    return series * np.where(after, 1 + change, 1.0)


def new_year_ramp(series: pd.Series, year: int, gain: float = 0.5, weeks: int = 8) -> pd.Series:
    """The series times a factor that is 1 up to 1 January of `year`, rises linearly to
    1 + gain over `weeks` weeks, then stays at 1 + gain."""
    start = pd.Timestamp(year=year, month=1, day=1)
    elapsed = np.asarray((pd.DatetimeIndex(series.index) - start).days, dtype=float)
    factor = 1 + gain * np.clip(elapsed / (7 * weeks), 0.0, 1.0)
    return series * factor
