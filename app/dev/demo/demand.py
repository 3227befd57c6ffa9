"""The latent demand behind the transactions: who buys, which categories and products, when.

Why apart: these are the patterns the models must find (weekly seasonality, a growth trend,
daily noise, users' favourite categories, long-tailed product popularity, and which
transactions are anomalies), drawn once per run and never stored; `transactions` only samples
from them, block by block.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.dev.demo.products import CATEGORIES, CATEGORY_POPULARITY
from app.dev.demo.spec import DAY_MS, HOUR_MS, DemoDataSpec, period_ms

# Mon..Sun: weekends about +35% over the weekday mean.
_WEEKDAY_FACTOR = np.array([1.00, 0.97, 0.98, 1.00, 1.08, 1.38, 1.32])
_TREND_GROWTH = 0.5  # the last day sells ~1.5x the first, before noise
_DAILY_NOISE_SIGMA = 0.08
# UTC hour-of-day profile: quiet nights, a lunch bump and an evening peak.
_HOUR_PROFILE = np.array(
    [0.30, 0.20, 0.15, 0.12, 0.12, 0.18, 0.35, 0.60, 0.85, 1.00, 1.10, 1.20,
     1.35, 1.25, 1.15, 1.10, 1.15, 1.30, 1.50, 1.65, 1.70, 1.50, 1.05, 0.60]
)  # fmt: skip
_ZIPF_EXPONENT = 1.1
_PRICE_ELASTICITY = 0.3  # within a category, cheaper products sell somewhat more
_ACTIVITY_SIGMA = 0.8  # log-normal spread of how much each user buys
_FAVOURITE_SHARE = 0.85  # share of a user's purchases from their 2-3 favourite categories


@dataclass(frozen=True)
class DemandModel:
    """Latent behaviour drawn once per run; it shapes transactions but is not stored."""

    product_ids: np.ndarray  # object array of str
    prices: np.ndarray
    user_ids: np.ndarray  # object array of str
    user_addresses: list[dict[str, str]]
    activity_cum: np.ndarray  # cumulative user weights
    pref_cum: np.ndarray  # users x categories, cumulative category preferences
    last_pref: np.ndarray  # per user, last category with a positive preference
    product_cum: np.ndarray  # per category segment c: c + cumulative popularity, sorted by category
    product_order: np.ndarray  # position in product_cum -> product index
    segment_end: np.ndarray  # per category, end of its segment in product_cum
    hour_start: np.ndarray  # per hour bin: first millisecond inside the period
    hour_len: np.ndarray  # per hour bin: milliseconds inside the period
    hour_cum: np.ndarray  # cumulative transaction counts per hour bin
    anomalies: np.ndarray  # sorted global indices of anomalous transactions
    block_seed: int


def build_demand_model(
    spec: DemoDataSpec,
    products: Sequence[Mapping[str, Any]],
    users: Sequence[Mapping[str, Any]],
    rng: np.random.Generator,
) -> DemandModel:
    """Draws preferences, popularity, activity and the hourly volume curve."""
    if not products or not users:
        raise ValueError("transactions need at least one product and one user")
    n_cat = len(CATEGORIES)
    codes = np.array([CATEGORIES.index(p["category"]) for p in products])
    prices = np.array([float(p["price"]) for p in products])
    available = np.bincount(codes, minlength=n_cat) > 0
    n_users = len(users)

    # Users: long-tailed activity; 2-3 favourite categories carry most of their purchases.
    activity = rng.lognormal(0.0, _ACTIVITY_SIGMA, n_users)
    log_pop = np.where(available, np.log(CATEGORY_POPULARITY), -np.inf)
    keys = log_pop + rng.gumbel(size=(n_users, n_cat))
    top = np.argsort(-keys, axis=1)[:, :3]  # weighted sampling without replacement
    n_fav = np.minimum(rng.integers(2, 4, n_users), available.sum())
    fav_w = rng.dirichlet(np.full(3, 2.0), size=n_users)
    fav_w[np.arange(3)[None, :] >= n_fav[:, None]] = 0.0
    favourites = np.zeros((n_users, n_cat))
    np.put_along_axis(favourites, top, fav_w, axis=1)
    background = rng.dirichlet(np.ones(n_cat), size=n_users) * CATEGORY_POPULARITY * available
    pref = _FAVOURITE_SHARE * favourites / favourites.sum(axis=1, keepdims=True)
    pref += (1 - _FAVOURITE_SHARE) * background / background.sum(axis=1, keepdims=True)
    last_pref = n_cat - 1 - np.argmax(pref[:, ::-1] > 0, axis=1)

    # Products: Zipf-like popularity within each category, tempered by price.
    order = np.argsort(codes, kind="stable")
    product_cum = np.empty(len(products))
    segment_end = np.zeros(n_cat, dtype=np.int64)
    pos = 0
    for c in range(n_cat):
        members = order[codes[order] == c]
        m = len(members)
        if m:
            ranks = rng.permutation(m)
            weights = (ranks + 1.0) ** -_ZIPF_EXPONENT * prices[members] ** -_PRICE_ELASTICITY
            cum = np.cumsum(weights) / weights.sum()
            cum[-1] = 1.0
            product_cum[pos : pos + m] = c + cum
        pos += m
        segment_end[c] = pos

    # Volume: per hour of the period = trend x weekday x daily noise x hour-of-day profile.
    start_ms, end_ms = period_ms(spec)
    first_hour = start_ms // HOUR_MS * HOUR_MS
    n_hours = -(-(end_ms - first_hour) // HOUR_MS)
    bins = first_hour + np.arange(n_hours, dtype=np.int64) * HOUR_MS
    hour_start = np.maximum(bins, start_ms)
    hour_len = np.minimum(bins + HOUR_MS, end_ms) - hour_start
    epoch_day = bins // DAY_MS
    day = epoch_day - epoch_day[0]
    n_days = int(day[-1]) + 1
    day_mid = (epoch_day[0] + np.arange(n_days)) * DAY_MS + DAY_MS // 2
    trend = 1.0 + _TREND_GROWTH * np.clip((day_mid - start_ms) / (end_ms - start_ms), 0.0, 1.0)
    noise = rng.lognormal(0.0, _DAILY_NOISE_SIGMA, n_days)
    weekday = _WEEKDAY_FACTOR[(epoch_day[0] + np.arange(n_days) + 3) % 7]  # 1970-01-01: Thu
    weight = (trend * weekday * noise)[day] * _HOUR_PROFILE[(bins // HOUR_MS) % 24] * hour_len
    counts = rng.multinomial(spec.transactions, weight / weight.sum())

    n_anomalies = min(spec.transactions, round(spec.transactions * spec.anomaly_share))
    anomalies = np.sort(rng.choice(spec.transactions, size=n_anomalies, replace=False))
    return DemandModel(
        product_ids=np.array([p["productId"] for p in products], dtype=object),
        prices=prices,
        user_ids=np.array([u["userId"] for u in users], dtype=object),
        user_addresses=[dict(u["address"]) for u in users],
        activity_cum=np.cumsum(activity),
        pref_cum=np.cumsum(pref, axis=1),
        last_pref=last_pref,
        product_cum=product_cum,
        product_order=order,
        segment_end=segment_end,
        hour_start=hour_start,
        hour_len=hour_len,
        hour_cum=np.cumsum(counts),
        anomalies=anomalies,
        block_seed=int(rng.integers(0, 2**63)),
    )
