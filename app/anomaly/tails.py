"""Empirical tail probabilities of each feature, against the sorted training columns.

The ECOD idea (Li et al., 2022; PyOD's `ECOD`): a value is unusual when few training values are
as far out on its side. Each feature's surprise is -log of the smaller tail probability; the
anomaly score is their sum. No distribution is assumed, there is nothing to tune, and scoring is
a binary search per feature. The same tails explain a flag, whichever detector made it.

Beyond the most extreme training value the empirical tail is flat (one in n+1, however far out),
so one wildly wrong feature could not outweigh three ordinary ones. There the surprise goes on
growing by one per interquartile range beyond that extreme: an exponential tail, whose only
scale is the feature's own spread."""

from dataclasses import dataclass

import numpy as np

# A constant feature (one price for every sale of a product) still has a scale: every feature
# is on a log scale, so 0.01 is a 1 % change.
_MIN_SPREAD = 0.01
_MAX_BEYOND = 1e6  # keeps a score finite (and JSON) however absurd the value


@dataclass
class EmpiricalTails:
    """The sorted training values of each feature (NaN dropped), and each feature's median
    surprise in training, which stands in for a feature a point does not have."""

    sorted_columns: list[np.ndarray]
    median_surprise: np.ndarray
    spreads: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> "EmpiricalTails":
        columns = [np.sort(column[~np.isnan(column)]) for column in values.T]
        spreads = np.array(
            [np.subtract(*np.quantile(c, [0.75, 0.25])) if len(c) else 1.0 for c in columns]
        )
        tails = cls(columns, np.zeros(len(columns)), np.maximum(spreads, _MIN_SPREAD))
        surprise = tails.surprise(values)
        observed = np.where(np.isnan(values), np.nan, surprise)
        has_values = (~np.isnan(observed)).any(axis=0)
        tails.median_surprise = np.zeros(len(columns))
        if has_values.any():
            tails.median_surprise[has_values] = np.nanmedian(observed[:, has_values], axis=0)
        return tails

    def tail_probabilities(self, values: np.ndarray) -> np.ndarray:
        """Per point and feature, the share of training values at least as far out on the
        point's side (left or right, whichever is smaller), smoothed so it is never 0."""
        out = np.full(values.shape, np.nan)
        for j, column in enumerate(self.sorted_columns):
            x = values[:, j]
            n = len(column)
            left = (np.searchsorted(column, x, side="right") + 1) / (n + 1)
            right = (n - np.searchsorted(column, x, side="left") + 1) / (n + 1)
            out[:, j] = np.where(np.isnan(x), np.nan, np.minimum(np.minimum(left, right), 1.0))
        return out

    def surprise(self, values: np.ndarray) -> np.ndarray:
        """-log tail probability per point and feature; a missing value gets the feature's
        median surprise in training, so it neither raises nor lowers the point's score."""
        return self.surprise_of(values, self.tail_probabilities(values))

    def surprise_of(self, values: np.ndarray, tail_probabilities: np.ndarray) -> np.ndarray:
        """`surprise` from tail probabilities already computed (scoring keeps both)."""
        surprise = -np.log(tail_probabilities) + self._beyond(values)
        filled: np.ndarray = np.where(np.isnan(surprise), self.median_surprise, surprise)
        return filled

    def _beyond(self, values: np.ndarray) -> np.ndarray:
        """Interquartile ranges beyond the training extremes (0 inside them)."""
        out = np.zeros(values.shape)
        for j, column in enumerate(self.sorted_columns):
            if len(column):
                x = values[:, j]
                out[:, j] = np.maximum(np.maximum(x - column[-1], column[0] - x), 0.0)
        beyond: np.ndarray = np.nan_to_num(out / self.spreads, nan=0.0, posinf=_MAX_BEYOND)
        beyond = np.minimum(beyond, _MAX_BEYOND)
        return beyond

    def quantiles(self, q: float) -> np.ndarray:
        """The q-quantile of each feature's training values."""
        return np.array([np.quantile(c, q) if len(c) else np.nan for c in self.sorted_columns])
