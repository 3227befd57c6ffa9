"""Keeping the share of flagged transactions near its budget (ANOMALY_FLAG_RATE) when the weeks
scored differ from the training window: larger seasonal orders, a general price change.

A threshold learnt once on the training scores flags the budget's share of the training window
and, out of season, far more: every feature is compared with the window's distribution, and a
season moves them all. Two steps, both from the transactions of the recent days
(ANOMALY_CALIBRATION_DAYS), both robust to a burst of real anomalies among them:

1. Alignment: each feature is re-centred on its recent median. A median moves little when a
   few per cent of the rows are anomalies; a season that lifts every order by half moves it by
   as much as the orders. A median that moved by less than DEADBAND (about 10 %) is the
   week-to-week noise of the mix of products and is not followed: on data full of ties
   (prices of 1.99 and 2.00) even a 4 % move of the unit prices' median cost a point of AUROC.
   (Re-scaling by the ratio of interquartile ranges was tried: the training window's own price
   ratios are narrower than any later week's, its product medians being computed on them, so
   it shrank every later price deviation and lost many price anomalies.)
2. Threshold: the training threshold moved by as much as the recent aligned scores' quantile
   at BODY times the budget (the 92nd percentile for 2 %) moved from the training scores' one.
   That quantile is the body of the scores, which a season moves and a burst of anomalies
   hardly does (a quantile at the budget itself would rise with any anomalies among the recent
   rows, and hide them). It never falls below the training threshold, and never rises above
   the training scores' (1 - budget / CEILING) quantile: a quarter of the budget.

Severity is relative to the budget: a flag is `low` among the budget's share, `medium` among
the most unusual tenth of it, `high` among the most unusual hundredth (the training scores'
quantiles, shifted as far as the threshold moved)."""

from dataclasses import dataclass

import numpy as np

BODY = 4.0  # the threshold follows the scores' quantile at BODY times the budget
CEILING = 4.0  # the threshold rises at most to the training quantile flagging budget / CEILING
MEDIUM_SHARE, HIGH_SHARE = 0.1, 0.01  # shares of the budget that are medium and high flags
DEADBAND = 0.1  # a feature's median moving less than this (log scale) is not followed
MIN_RECENT_ROWS = 50  # fewer recent rows: the training calibration stays


@dataclass(frozen=True)
class Calibration:
    """The recent medians of the features, the threshold and severity cut-offs on the aligned
    raw scores, and what the recent rows showed."""

    recent_median: np.ndarray
    threshold: float
    severity_cutoffs: dict[str, float]
    recent_rows: int
    recent_flag_rate: float


@dataclass(frozen=True)
class Reference:
    """What the training window gives a calibration: each feature's median, and the raw
    scores' quantiles at the cut-offs (threshold, medium, high, ceiling)."""

    median: np.ndarray
    cutoffs: dict[str, float]

    @classmethod
    def of(cls, features: np.ndarray, raw: np.ndarray, budget: float) -> "Reference":
        shares = {
            "threshold": budget,
            "medium": budget * MEDIUM_SHARE,
            "high": budget * HIGH_SHARE,
            "ceiling": budget / CEILING,
            "body": min(BODY * budget, 0.5),
        }
        cutoffs = {name: float(np.quantile(raw, 1 - share)) for name, share in shares.items()}
        return cls(np.nan_to_num(_medians(features)), cutoffs)

    def identity(self, rows: int, flag_rate: float) -> Calibration:
        """The calibration of the training window itself: no alignment."""
        return Calibration(
            self.median,
            self.cutoffs["threshold"],
            self._severities(0.0),
            rows,
            flag_rate,
        )

    def recent_median(self, recent: np.ndarray) -> np.ndarray:
        """The recent medians, where they moved by DEADBAND or more (elsewhere, and for a
        feature the recent rows lack, the training's)."""
        median = _medians(recent)
        moved = np.isfinite(median) & (np.abs(median - self.median) >= DEADBAND)
        return np.where(moved, median, self.median)

    def calibrated(self, recent_median: np.ndarray, raw: np.ndarray, budget: float) -> Calibration:
        """From the recent rows' aligned raw scores: the bounded threshold (module docstring)."""
        share = 1 - min(BODY * budget, 0.5)
        wanted = self.cutoffs["threshold"] + float(np.quantile(raw, share)) - self.cutoffs["body"]
        threshold = min(max(wanted, self.cutoffs["threshold"]), self.cutoffs["ceiling"])
        return Calibration(
            recent_median,
            threshold,
            self._severities(threshold - self.cutoffs["threshold"]),
            len(raw),
            float((raw > threshold).mean()),
        )

    def align(self, features: np.ndarray, calibration: Calibration) -> np.ndarray:
        """Features moved from the recent distribution onto the training one."""
        aligned: np.ndarray = features - calibration.recent_median + self.median
        return aligned

    def _severities(self, shift: float) -> dict[str, float]:
        return {
            "medium": max(self.cutoffs["medium"], self.cutoffs["threshold"]) + shift,
            "high": max(self.cutoffs["high"], self.cutoffs["medium"]) + shift,
        }


def _medians(features: np.ndarray) -> np.ndarray:
    """Per column, ignoring NaN: the median (NaN for an empty column)."""
    out = np.full(features.shape[1], np.nan)
    for j in range(features.shape[1]):
        column = features[:, j][np.isfinite(features[:, j])]
        if len(column):
            out[j] = np.median(column)
    return out
