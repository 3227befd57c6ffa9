"""Features of the daily sales series, computed the same way for training and forecasting.

Row t only sees values before day t (lags and rolling windows are shifted), so training never
peeks at the value it learns to predict, and a recursive forecast can build tomorrow's row from
today's prediction.
"""

import numpy as np
import pandas as pd

LAGS = (1, 2, 3, 7, 14)
WINDOWS = (7, 14)
WARM_UP_DAYS = max(max(LAGS), max(WINDOWS))

CALENDAR_FEATURES = (
    "time_index",
    "day_of_week",
    "day_of_month",
    "month",
    "day_of_year",
    "is_weekend",
    "is_month_start",
    "is_month_end",
)
FEATURE_NAMES: tuple[str, ...] = (
    *CALENDAR_FEATURES,
    *(f"lag_{lag}" for lag in LAGS),
    *(f"rolling_{stat}_{window}" for window in WINDOWS for stat in ("mean", "std")),
)


def make_features(
    values: np.ndarray, dates: pd.DatetimeIndex, origin: pd.Timestamp
) -> pd.DataFrame:
    """One row of features per day; `origin` anchors the trend feature `time_index`."""
    series = pd.Series(values, index=dates, dtype=np.float64)
    frame = pd.DataFrame(index=dates)
    frame["time_index"] = (dates - origin).days.astype(np.float64)
    frame["day_of_week"] = dates.day_of_week
    frame["day_of_month"] = dates.day
    frame["month"] = dates.month
    frame["day_of_year"] = dates.day_of_year
    frame["is_weekend"] = (dates.day_of_week >= 5).astype(int)
    frame["is_month_start"] = dates.is_month_start.astype(int)
    frame["is_month_end"] = dates.is_month_end.astype(int)
    for lag in LAGS:
        frame[f"lag_{lag}"] = series.shift(lag)
    previous = series.shift(1)
    for window in WINDOWS:
        rolling = previous.rolling(window)
        frame[f"rolling_mean_{window}"] = rolling.mean()
        frame[f"rolling_std_{window}"] = rolling.std()
    return frame[list(FEATURE_NAMES)]


def next_day_features(history: np.ndarray, day: pd.Timestamp, origin: pd.Timestamp) -> np.ndarray:
    """The row `make_features` gives `day`, the day right after `history` (at least
    WARM_UP_DAYS values) ends, as floats in FEATURE_NAMES' order. A recursive forecast asks for
    one row per step; building a frame for each made training with categories several times
    slower."""
    calendar = [
        float((day - origin).days),
        day.day_of_week,
        day.day,
        day.month,
        day.day_of_year,
        int(day.day_of_week >= 5),
        int(day.is_month_start),
        int(day.is_month_end),
    ]
    lags = [history[-lag] for lag in LAGS]
    rolling = [
        stat
        for window in WINDOWS
        for stat in (history[-window:].mean(), history[-window:].std(ddof=1))
    ]
    return np.array([*calendar, *lags, *rolling], dtype=np.float64)
