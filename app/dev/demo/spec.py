"""What demo data to generate, and the one period it spans.

Why apart: products, users and transactions all read the same spec and the same [start, end)
period in epoch milliseconds, so their dates agree whichever module draws them.
"""

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DemoDataSpec:
    """What to generate; the same spec (with a fixed `end`) always gives the same data."""

    days: int = 120
    transactions: int = 50_000
    users: int = 2_000
    products: int = 500
    anomaly_share: float = 0.01
    seed: int = 42
    end: datetime | None = None  # None = now (UTC)

    def __post_init__(self) -> None:
        """Rejects sizes the generator cannot honour, so errors surface before any insert."""
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if self.transactions < 0:
            raise ValueError("transactions must be >= 0")
        if self.users < 1 or self.products < 1:
            raise ValueError("users and products must be >= 1")
        if not 0.0 <= self.anomaly_share <= 1.0:
            raise ValueError("anomaly_share must be within [0, 1]")
        if self.end is not None and self.end.utcoffset() is None:
            raise ValueError("end must be timezone-aware (UTC)")


def resolved(spec: DemoDataSpec) -> DemoDataSpec:
    """Pins `end` once, so products, users and transactions share one period."""
    if spec.end is None:
        return dataclasses.replace(spec, end=datetime.now(UTC))
    return spec


def period_ms(spec: DemoDataSpec) -> tuple[int, int]:
    """[start, end) in whole epoch milliseconds (BSON precision), inside [end - days, end)."""
    end = spec.end if spec.end is not None else datetime.now(UTC)
    end_us = (end - _EPOCH) // timedelta(microseconds=1)
    start_us = end_us - spec.days * DAY_MS * 1000
    return -(-start_us // 1000), -(-end_us // 1000)


def datetimes(ms: np.ndarray) -> list[datetime]:
    """Epoch milliseconds to aware UTC datetimes (exact: float error is far below 1 us)."""
    return [datetime.fromtimestamp(s, UTC) for s in (ms / 1000.0).tolist()]
