"""Keeping the share of flagged transactions near its budget (ANOMALY_FLAG_RATE) when the weeks
scored differ from the training window: larger seasonal orders, a general price change.

A threshold learnt once on the training scores flags the budget's share of the training window
and, out of season, far more: every feature is compared with the window's distribution, and a
season moves them all. Two steps, both from the transactions of the recent days
(ANOMALY_CALIBRATION_DAYS), both robust to a burst of real anomalies among them:

1. Alignment: each feature is re-centred on its recent median and re-scaled by the ratio of its
   interquartile ranges (training / recent, within [1/2, 2]). A median and quartiles move little
   when a few per cent of the rows are anomalies; a season that lifts every order by half moves
   them by as much as the orders.
2. Threshold: the recent aligned scores' (1 - budget) quantile, bounded below by the training
   threshold and above by the training scores' (1 - budget / CEILING) quantile, so that a burst
   of anomalies larger than the budget cannot lift the threshold over itself: the threshold can
   rise at most to where a quarter of the budget is flagged in the training window.

Severity is relative to the budget: a flag is `low` among the budget's share, `medium` among
the most unusual tenth of it, `high` among the most unusual hundredth (the training scores'
quantiles, shifted as far as the threshold moved)."""

from dataclasses import dataclass

import numpy as np

CEILING = 4.0  # the threshold rises at most to the training quantile flagging budget / CEILING
MEDIUM_SHARE, HIGH_SHARE = 0.1, 0.01  # shares of the budget that are medium and high flags
SCALE_LIMITS = (0.5, 2.0)
MIN_RECENT_ROWS = 50  # fewer recent rows: the training calibration stays


@dataclass(frozen=True)
class Calibration:
    """The recent medians and scale factors of the features, the threshold and severity
    cut-offs on the aligned raw scores, and what the recent rows showed."""

    recent_median: np.ndarray
    scale: np.ndarray
    threshold: float
    severity_cutoffs: dict[str, float]
    recent_rows: int
    recent_flag_rate: float


@dataclass(frozen=True)
class Reference:
    """What the training window gives a calibration: each feature's median and interquartile
    range, and the raw scores' quantiles at the cut-offs (threshold, medium, high, ceiling)."""

    median: np.ndarray
    spread: np.ndarray
    cutoffs: dict[str, float]

    @classmethod
    def of(cls, features: np.ndarray, raw: np.ndarray, budget: float) -> "Reference":
        shares = {
            "threshold": budget,
            "medium": budget * MEDIUM_SHARE,
            "high": budget * HIGH_SHARE,
            "ceiling": budget / CEILING,
        }
        median, spread = _location_and_spread(features)
        cutoffs = {name: float(np.quantile(raw, 1 - share)) for name, share in shares.items()}
        return cls(np.nan_to_num(median), np.nan_to_num(spread, nan=1.0), cutoffs)

    def identity(self, rows: int, flag_rate: float) -> Calibration:
        """The calibration of the training window itself: no alignment."""
        return Calibration(
            self.median,
            np.ones_like(self.median),
            self.cutoffs["threshold"],
            self._severities(0.0),
            rows,
            flag_rate,
        )

    def aligner(self, recent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The recent medians and scale factors (a feature the recent rows lack keeps the
        training's median and scale)."""
        median, spread = _location_and_spread(recent)
        known = np.isfinite(median) & np.isfinite(spread)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.clip(self.spread / np.maximum(spread, 1e-12), *SCALE_LIMITS)
        return np.where(known, median, self.median), np.where(known, scale, 1.0)

    def calibrated(
        self, recent_median: np.ndarray, scale: np.ndarray, raw: np.ndarray, budget: float
    ) -> Calibration:
        """From the recent rows' aligned raw scores: the bounded threshold (module docstring)."""
        wanted = float(np.quantile(raw, 1 - budget))
        threshold = min(max(wanted, self.cutoffs["threshold"]), self.cutoffs["ceiling"])
        return Calibration(
            recent_median,
            scale,
            threshold,
            self._severities(threshold - self.cutoffs["threshold"]),
            len(raw),
            float((raw > threshold).mean()),
        )

    def align(self, features: np.ndarray, calibration: Calibration) -> np.ndarray:
        """Features moved from the recent distribution onto the training one."""
        aligned: np.ndarray = (
            features - calibration.recent_median
        ) * calibration.scale + self.median
        return aligned

    def _severities(self, shift: float) -> dict[str, float]:
        return {
            "medium": max(self.cutoffs["medium"], self.cutoffs["threshold"]) + shift,
            "high": max(self.cutoffs["high"], self.cutoffs["medium"]) + shift,
        }


def _location_and_spread(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, ignoring NaN: the median and interquartile range (NaN for an empty column)."""
    out = np.full((3, features.shape[1]), np.nan)
    for j in range(features.shape[1]):
        column = features[:, j][np.isfinite(features[:, j])]
        if len(column):
            out[:, j] = np.quantile(column, [0.25, 0.5, 0.75])
    return out[1], np.maximum(out[2] - out[0], 0.01)
