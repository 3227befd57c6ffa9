"""Methods that follow a moving level: the weekly shape and the level are estimated apart, the
series divided by a multiplicative weekday profile, its level (and trend) smoothed, and the
profile put back. Pure numpy, fitted in milliseconds, so that every category can afford them
in its backtest, and a saved model holds only numbers.

- `theta`: the Theta method (Assimakopoulos and Nikolopoulos; in the form of Hyndman and
  Billah, 2003): simple exponential smoothing of the adjusted series plus half its linear
  trend's slope;
- `profile_trend`: a weekday profile times a local level and damped trend (Holt's method on the
  adjusted series), whose smoothing weights and damping have the lowest one-day-ahead squared
  error on a small grid.

A weekday whose profile is near zero (a shop closed on Sundays) tells nothing about the level:
smoothing passes over it, and its forecast is zero."""

from dataclasses import dataclass

import numpy as np

WEEK = 7
PROFILE_WEEKS = 12  # the weekly shape drifts: the last quarter's
CLOSED = 0.05  # a weekday this far below the week's mean is taken as closed
THETA_ALPHAS = np.linspace(0.02, 0.98, 25)
# Small weights: a level that follows the last days' noise forecasts a month badly (a wider grid,
# up to 0.5 and 0.2, chose them on one-day-ahead errors and did worse 28 days ahead).
_ALPHA, _BETA, _PHI = np.meshgrid(
    np.array([0.02, 0.05, 0.1]),
    np.array([0.0, 0.02, 0.05]),
    np.array([0.95, 0.98]),
    indexing="ij",
)
HOLT_GRID = (_ALPHA.ravel(), _BETA.ravel(), _PHI.ravel())


@dataclass
class ProfileTrend:
    """`(level + trend * (damping + damping**2 + ... + damping**h)) * profile[h - 1 mod 7]` for
    the day h after the series' end; a damping of 1 is a straight line."""

    level: float
    trend: float
    damping: float
    profile: np.ndarray  # profile[k]: the day k + 1 after the end, modulo 7

    def predict(self, steps: int) -> np.ndarray:
        damped = self.trend * np.cumsum(self.damping ** np.arange(1, steps + 1))
        return np.maximum((self.level + damped) * np.resize(self.profile, steps), 0.0)


def weekday_profile(values: np.ndarray) -> np.ndarray:
    """Each weekday's sales over its centred weekly mean in the last PROFILE_WEEKS weeks, as
    `profile[k]` for the day k + 1 after the end (modulo 7), averaging 1 over a week."""
    recent = values[-(PROFILE_WEEKS * WEEK + 6) :]
    n = len(recent)
    if n < WEEK + 6:
        return np.ones(WEEK)
    centred = np.convolve(recent, np.ones(WEEK) / WEEK, mode="valid")  # day t: days t-3..t+3
    days = np.arange(3, n - 3)
    phase = (days - n) % WEEK  # the days k + 1 after the end have phase k
    sales = np.bincount(phase, weights=recent[days], minlength=WEEK)
    means = np.bincount(phase, weights=centred, minlength=WEEK)
    if means.min() <= 0:
        return np.ones(WEEK)
    profile = sales / means
    return profile * WEEK / profile.sum() if profile.sum() > 0 else np.ones(WEEK)


def adjusted(values: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """The series divided by its profile; NaN on closed weekdays."""
    phase = (np.arange(len(values)) - len(values)) % WEEK
    factor = profile[phase]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(factor > CLOSED, values / factor, np.nan)


def _smooth(
    values: np.ndarray, alpha: np.ndarray, beta: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Holt's damped-trend smoothing run for every parameter set at once (arrays of one length);
    the final levels and trends and the one-day-ahead squared errors after the first week."""
    known = values[~np.isnan(values)]
    level = np.full(alpha.shape, known[:WEEK].mean() if len(known) else 0.0)
    trend = np.zeros(alpha.shape)
    sse = np.zeros(alpha.shape)
    for t, value in enumerate(values):
        ahead = level + phi * trend
        if np.isnan(value):
            level, trend = ahead, phi * trend
            continue
        error = value - ahead
        if t >= WEEK:
            sse += error**2
        level = ahead + alpha * error
        trend = phi * trend + alpha * beta * error
    return level, trend, sse


def profile_trend(values: np.ndarray) -> ProfileTrend | None:
    """A weekday profile times Holt's damped local level and trend; None without sales."""
    profile = weekday_profile(values)
    series = adjusted(values, profile)
    if np.isnan(series).all():
        return None
    alpha, beta, phi = HOLT_GRID
    level, trend, sse = _smooth(series, alpha, beta, phi)
    best = int(np.argmin(sse))
    return ProfileTrend(float(level[best]), float(trend[best]), float(phi[best]), profile)


def theta(values: np.ndarray) -> ProfileTrend | None:
    """The Theta method on the profile-adjusted series: the level of simple exponential
    smoothing (the weight of least squared error) plus half the series' least-squares slope
    per day ahead, with its start-up correction."""
    profile = weekday_profile(values)
    series = adjusted(values, profile)
    days = np.flatnonzero(~np.isnan(series))
    if len(days) < 2:
        return None
    slope = float(np.polyfit(days, series[days], 1)[0])
    alphas = THETA_ALPHAS
    level, _, sse = _smooth(series, alphas, np.zeros_like(alphas), np.ones_like(alphas))
    best = int(np.argmin(sse))
    alpha = float(alphas[best])
    start = 1 / alpha - (1 - alpha) ** len(series) / alpha - 1
    return ProfileTrend(float(level[best]) + slope / 2 * start, slope / 2, 1.0, profile)
