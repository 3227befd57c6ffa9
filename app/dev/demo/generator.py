"""Realistic, reproducible demo data in the data producer's MongoDB schema.

Why: the service must run, be tested and be benchmarked without the real e-commerce platform.
The data carries the patterns the models look for (weekly seasonality, trend, category
preferences, long-tailed popularity, a labelled-by-construction share of anomalies), and it
streams in batches so a million transactions fit in bounded memory.

Run `python -m app.dev.demo --help` for the command line.
"""

import dataclasses
import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from loguru import logger
from pymongo.asynchronous.database import AsyncDatabase

from app.dev.demo.vocabulary import (
    CITIES,
    CITY_P,
    EMAIL_DOMAINS,
    FEATURES,
    FIRST_NAMES,
    HEX,
    LAST_NAMES,
    LETTERS,
    STREET_TYPES,
    STREETS,
    WORDS,
    ZIP_FORMATS,
    ZIP_WIDTH,
)

PRODUCTS = "products"
USERS = "users"
TRANSACTIONS = "transactions"
COLLECTIONS = (PRODUCTS, USERS, TRANSACTIONS)

CATEGORIES: tuple[str, ...] = (
    "Electronics",
    "Books",
    "Home & Kitchen",
    "Apparel",
    "Sports",
    "Beauty",
    "Automotive",
    "Food & Beverage",
    "Toys",
    "Health",
)
# Relative demand per category: shapes both the catalogue and users' favourite categories.
_CATEGORY_POPULARITY = np.array([1.6, 1.0, 1.3, 1.5, 0.9, 0.9, 0.5, 0.8, 0.7, 0.8])
# Median price per category; prices are log-normal around it.
_PRICE_MEDIAN = np.array([180.0, 22.0, 55.0, 45.0, 60.0, 28.0, 80.0, 18.0, 30.0, 32.0])
_PRICE_SIGMA = 0.75
PRICE_MIN, PRICE_MAX = 10.0, 2500.0

STATUSES: tuple[str, ...] = ("completed", "pending", "failed", "returned")
_STATUS_P = (0.88, 0.05, 0.04, 0.03)
# Absurd orders are stopped by payment checks or sent back: they stay in the collection for
# anomaly detection but are never sales, whose weekly pattern they would otherwise drown (one
# of them can outweigh a whole day of normal sales).
_ANOMALY_STATUS_P = (0.0, 0.0, 0.8, 0.2)
PAYMENT_METHODS: tuple[str, ...] = (
    "credit_card",
    "paypal",
    "debit_card",
    "bank_transfer",
    "apple_pay",
    "google_pay",
    "cash_on_delivery",
)
_PAYMENT_P = (0.42, 0.20, 0.18, 0.06, 0.06, 0.05, 0.03)

MAX_NORMAL_QUANTITY = 5
_QUANTITY_P = (0.62, 0.20, 0.10, 0.05, 0.03)  # quantities 1..5
ANOMALY_QUANTITY = (20, 60)  # inclusive
ANOMALY_PRICE_FACTOR = (10.0, 50.0)

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
_OWN_ADDRESS_SHARE = 0.92  # the rest ships to another address (gifts, work)

_BLOCK = 8_192  # transactions drawn per RNG block: output does not depend on batch_size
_DAY_MS = 86_400_000
_HOUR_MS = 3_600_000
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


def _resolved(spec: DemoDataSpec) -> DemoDataSpec:
    """Pins `end` once, so products, users and transactions share one period."""
    if spec.end is None:
        return dataclasses.replace(spec, end=datetime.now(UTC))
    return spec


def _period_ms(spec: DemoDataSpec) -> tuple[int, int]:
    """[start, end) in whole epoch milliseconds (BSON precision), inside [end - days, end)."""
    end = spec.end if spec.end is not None else datetime.now(UTC)
    end_us = (end - _EPOCH) // timedelta(microseconds=1)
    start_us = end_us - spec.days * _DAY_MS * 1000
    return -(-start_us // 1000), -(-end_us // 1000)


def _datetimes(ms: np.ndarray) -> list[datetime]:
    """Epoch milliseconds to aware UTC datetimes (exact: float error is far below 1 us)."""
    return [datetime.fromtimestamp(s, UTC) for s in (ms / 1000.0).tolist()]


def _uuid4s(rng: np.random.Generator, n: int) -> list[str]:
    """UUID4 strings from the seeded RNG, equal to str(uuid.UUID(bytes=..., version=4)).

    Formatted with numpy rather than uuid.UUID: a million of them is ~10x faster.
    """
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = np.empty((n, 32), dtype=np.uint8)
    hexes[:, 0::2] = HEX[raw >> 4]
    hexes[:, 1::2] = HEX[raw & 0x0F]
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst, width in ((0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12)):
        text[:, dst : dst + width] = hexes[:, src : src + width]
    joined = text.tobytes().decode("ascii")
    return [joined[i : i + 36] for i in range(0, 36 * n, 36)]


def _random_strings(rng: np.random.Generator, n: int, alphabet: str, width: int) -> list[str]:
    """n random strings of `width` characters from `alphabet`, drawn in one go."""
    codes = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)
    joined = codes[rng.integers(0, len(codes), (n, width))].tobytes().decode("ascii")
    return [joined[i : i + width] for i in range(0, n * width, width)]


def _pick(rng: np.random.Generator, options: Sequence[str], n: int) -> list[str]:
    """n uniform picks from options."""
    return [options[i] for i in rng.integers(0, len(options), n).tolist()]


def _addresses(rng: np.random.Generator, n: int) -> list[dict[str, str]]:
    """n plausible postal addresses."""
    cities = rng.choice(len(CITIES), size=n, p=CITY_P).tolist()
    numbers = rng.integers(1, 2000, n).tolist()
    streets = _pick(rng, STREETS, n)
    types = _pick(rng, STREET_TYPES, n)
    digits = _random_strings(rng, n, "0123456789", ZIP_WIDTH)
    letters = _random_strings(rng, n, LETTERS, ZIP_WIDTH)
    out = []
    for city_i, number, street, kind, digit, letter in zip(
        cities, numbers, streets, types, digits, letters, strict=True
    ):
        city, country, _, _ = CITIES[city_i]
        zip_code = ZIP_FORMATS[city_i].format(digit, letter)
        out.append(
            {
                "street": f"{number} {street} {kind}",
                "city": city,
                "country": country,
                "zip": zip_code,
            }
        )
    return out


def _category_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Category per product, weighted by demand; every category is present once n >= 10."""
    k = len(CATEGORIES)
    p = _CATEGORY_POPULARITY / _CATEGORY_POPULARITY.sum()
    if n < k:
        return rng.choice(k, size=n, replace=False, p=p)
    counts = 1 + rng.multinomial(n - k, p)
    return rng.permutation(np.repeat(np.arange(k), counts))


def _prices(rng: np.random.Generator, codes: np.ndarray) -> np.ndarray:
    """Log-normal per category, truncated (redrawn, not piled up) to 10..2500; most end in .99."""
    prices = _PRICE_MEDIAN[codes] * rng.lognormal(0.0, _PRICE_SIGMA, len(codes))
    for _ in range(20):
        outside = np.flatnonzero((prices < PRICE_MIN) | (prices >= PRICE_MAX))
        if not len(outside):
            break
        prices[outside] = _PRICE_MEDIAN[codes[outside]] * rng.lognormal(
            0.0, _PRICE_SIGMA, len(outside)
        )
    charm = rng.random(len(codes)) < 0.6
    prices = np.where(charm, np.floor(prices) + 0.99, prices)
    rounded: np.ndarray = np.round(np.clip(prices, PRICE_MIN, PRICE_MAX), 2)
    return rounded


def generate_products(spec: DemoDataSpec, rng: np.random.Generator) -> list[dict[str, Any]]:
    """The catalogue: category-typical names and log-normal prices, all added before the period."""
    n = spec.products
    start_ms, end_ms = _period_ms(spec)
    codes = _category_codes(rng, n)
    ids = _uuid4s(rng, n)
    prices = _prices(rng, codes)
    stock = np.where(rng.random(n) < 0.04, 0, rng.integers(1, 1001, n))
    added = start_ms - (rng.random(n) * 730 * _DAY_MS).astype(np.int64)
    updated = added + (rng.random(n) * (end_ms - added)).astype(np.int64)
    word_draws = rng.random((n, 4))
    models = rng.integers(1, 100, n).tolist()
    features = _pick(rng, FEATURES, n)
    added_dt, updated_dt = _datetimes(added), _datetimes(updated)
    products = []
    for i, code in enumerate(codes.tolist()):
        category = CATEGORIES[code]
        adjectives, nouns, suffixes, numbered = WORDS[category]
        adj = adjectives[int(word_draws[i, 0] * len(adjectives))]
        noun = nouns[int(word_draws[i, 1] * len(nouns))]
        suffix = suffixes[int(word_draws[i, 2] * len(suffixes))]
        name = " ".join(part for part in (adj, noun, suffix) if part)
        if numbered:
            name = f"{name} {models[i]}"
        products.append(
            {
                "productId": ids[i],
                "name": name,
                "category": category,
                "price": float(prices[i]),
                "stock": int(stock[i]),
                "description": f"{adj} {noun.lower()} from our {category} range. {features[i]}",
                "imageUrl": f"https://images.example.com/products/{ids[i]}.jpg",
                "addedDate": added_dt[i],
                "lastUpdated": updated_dt[i],
            }
        )
    return products


def generate_users(spec: DemoDataSpec, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Customers registered before the period, with unique usernames and a home address."""
    n = spec.users
    start_ms, end_ms = _period_ms(spec)
    ids = _uuid4s(rng, n)
    firsts, lasts = _pick(rng, FIRST_NAMES, n), _pick(rng, LAST_NAMES, n)
    numbers = rng.integers(1, 1000, n).tolist()
    domains = _pick(rng, EMAIL_DOMAINS, n)
    # Registrations lean recent: more customers joined lately than three years ago.
    registered = start_ms - (rng.random(n) ** 1.5 * 3 * 365 * _DAY_MS).astype(np.int64) - 1
    login_from = np.maximum(registered, end_ms - 30 * _DAY_MS)
    last_login = login_from + (rng.random(n) * (end_ms - login_from)).astype(np.int64)
    updated = registered + (rng.random(n) * (last_login - registered)).astype(np.int64)
    addresses = _addresses(rng, n)
    reg_dt, login_dt, upd_dt = _datetimes(registered), _datetimes(last_login), _datetimes(updated)
    taken: set[str] = set()
    users = []
    for i in range(n):
        username = f"{firsts[i].lower()}.{lasts[i].lower()}{numbers[i]}"
        if username in taken:
            username = f"{username}_{i}"
        taken.add(username)
        users.append(
            {
                "userId": ids[i],
                "username": username,
                "email": f"{username}@{domains[i]}",
                "registrationDate": reg_dt[i],
                "lastLogin": login_dt[i],
                "address": addresses[i],
                "createdAt": reg_dt[i],
                "updatedAt": upd_dt[i],
            }
        )
    return users


def is_anomalous(transaction: Mapping[str, Any], price: float) -> bool:
    """Ground truth for benchmarks: every injected anomaly, and only those, matches this rule."""
    quantity = int(transaction["quantity"])
    return quantity > MAX_NORMAL_QUANTITY or transaction["totalPrice"] > price * quantity * 1.5


@dataclass(frozen=True)
class _Model:
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


def _build_model(
    spec: DemoDataSpec,
    products: Sequence[Mapping[str, Any]],
    users: Sequence[Mapping[str, Any]],
    rng: np.random.Generator,
) -> _Model:
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
    log_pop = np.where(available, np.log(_CATEGORY_POPULARITY), -np.inf)
    keys = log_pop + rng.gumbel(size=(n_users, n_cat))
    top = np.argsort(-keys, axis=1)[:, :3]  # weighted sampling without replacement
    n_fav = np.minimum(rng.integers(2, 4, n_users), available.sum())
    fav_w = rng.dirichlet(np.full(3, 2.0), size=n_users)
    fav_w[np.arange(3)[None, :] >= n_fav[:, None]] = 0.0
    favourites = np.zeros((n_users, n_cat))
    np.put_along_axis(favourites, top, fav_w, axis=1)
    background = rng.dirichlet(np.ones(n_cat), size=n_users) * _CATEGORY_POPULARITY * available
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
    start_ms, end_ms = _period_ms(spec)
    first_hour = start_ms // _HOUR_MS * _HOUR_MS
    n_hours = -(-(end_ms - first_hour) // _HOUR_MS)
    bins = first_hour + np.arange(n_hours, dtype=np.int64) * _HOUR_MS
    hour_start = np.maximum(bins, start_ms)
    hour_len = np.minimum(bins + _HOUR_MS, end_ms) - hour_start
    epoch_day = bins // _DAY_MS
    day = epoch_day - epoch_day[0]
    n_days = int(day[-1]) + 1
    day_mid = (epoch_day[0] + np.arange(n_days)) * _DAY_MS + _DAY_MS // 2
    trend = 1.0 + _TREND_GROWTH * np.clip((day_mid - start_ms) / (end_ms - start_ms), 0.0, 1.0)
    noise = rng.lognormal(0.0, _DAILY_NOISE_SIGMA, n_days)
    weekday = _WEEKDAY_FACTOR[(epoch_day[0] + np.arange(n_days) + 3) % 7]  # 1970-01-01: Thu
    weight = (trend * weekday * noise)[day] * _HOUR_PROFILE[(bins // _HOUR_MS) % 24] * hour_len
    counts = rng.multinomial(spec.transactions, weight / weight.sum())

    n_anomalies = min(spec.transactions, round(spec.transactions * spec.anomaly_share))
    anomalies = np.sort(rng.choice(spec.transactions, size=n_anomalies, replace=False))
    return _Model(
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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pauses the cyclic GC while many nested dicts are built: they form no cycles, yet their
    allocation triggered full collections costing about a fifth of the generation time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _block(model: _Model, first: int, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Transactions first..first+n-1 (global, chronological), vectorised except the dicts."""
    index = np.arange(first, first + n, dtype=np.int64)
    hour = np.searchsorted(model.hour_cum, index, side="right")
    prev = np.where(hour > 0, model.hour_cum[np.maximum(hour - 1, 0)], 0)
    per_hour = model.hour_cum[hour] - prev
    # Stratified offsets: evenly spread within the hour and already in order.
    offset = ((index - prev + rng.random(n)) / per_hour * model.hour_len[hour]).astype(np.int64)
    when = model.hour_start[hour] + offset

    users = np.searchsorted(model.activity_cum, rng.random(n) * model.activity_cum[-1], "right")
    users = np.minimum(users, len(model.activity_cum) - 1)
    cum = model.pref_cum[users]
    category = (cum <= (rng.random(n) * cum[:, -1])[:, None]).sum(axis=1)
    category = np.minimum(category, model.last_pref[users])
    slot = np.searchsorted(model.product_cum, category + rng.random(n), side="right")
    slot = np.minimum(slot, model.segment_end[category] - 1)
    products = model.product_order[slot]
    price = model.prices[products]

    quantity = rng.choice(np.arange(1, MAX_NORMAL_QUANTITY + 1), size=n, p=_QUANTITY_P)
    factor = np.ones(n)
    lo = np.searchsorted(model.anomalies, first)
    hi = np.searchsorted(model.anomalies, first + n)
    anomalous = model.anomalies[lo:hi] - first
    if len(anomalous):
        kind = rng.integers(0, 3, len(anomalous))  # 0 quantity, 1 price, 2 both
        big = rng.integers(ANOMALY_QUANTITY[0], ANOMALY_QUANTITY[1] + 1, len(anomalous))
        inflate = rng.uniform(*ANOMALY_PRICE_FACTOR, len(anomalous))
        quantity[anomalous] = np.where(kind != 1, big, quantity[anomalous])
        factor[anomalous] = np.where(kind != 0, inflate, 1.0)
    total = np.round(price * quantity * factor, 2)

    status = np.array(STATUSES, dtype=object)[rng.choice(len(STATUSES), n, p=_STATUS_P)]
    if len(anomalous):
        picks = rng.choice(len(STATUSES), len(anomalous), p=_ANOMALY_STATUS_P)
        status[anomalous] = np.array(STATUSES, dtype=object)[picks]
    payment = np.array(PAYMENT_METHODS, dtype=object)[
        rng.choice(len(PAYMENT_METHODS), n, p=_PAYMENT_P)
    ]
    elsewhere = np.flatnonzero(rng.random(n) >= _OWN_ADDRESS_SHARE)
    addresses = [model.user_addresses[u] for u in users.tolist()]
    for i, address in zip(elsewhere.tolist(), _addresses(rng, len(elsewhere)), strict=True):
        addresses[i] = address
    ids = _uuid4s(rng, n)
    dates = _datetimes(when)
    with _gc_paused():
        return [
            {
                "transactionId": tid,
                "userId": uid,
                "productId": pid,
                "quantity": q,
                "totalPrice": tp,
                "transactionDate": dt,
                "status": st,
                "paymentMethod": pm,
                "shippingAddress": dict(addr),
                "createdAt": dt,
            }
            for tid, uid, pid, q, tp, dt, st, pm, addr in zip(
                ids,
                model.user_ids[users].tolist(),
                model.product_ids[products].tolist(),
                quantity.tolist(),
                total.tolist(),
                dates,
                status.tolist(),
                payment.tolist(),
                addresses,
                strict=True,
            )
        ]


def iter_transaction_batches(
    spec: DemoDataSpec,
    products: Sequence[Mapping[str, Any]],
    users: Sequence[Mapping[str, Any]],
    rng: np.random.Generator,
    batch_size: int = 5_000,
) -> Iterator[list[dict[str, Any]]]:
    """Chronological transaction batches, exactly spec.transactions in total, bounded memory.

    The latent model is drawn from `rng` now (not lazily), then each fixed-size block gets
    its own child RNG, so the data is the same whatever `batch_size` is.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    model = _build_model(spec, products, users, rng)

    def batches() -> Iterator[list[dict[str, Any]]]:
        pending: list[dict[str, Any]] = []
        for number, first in enumerate(range(0, spec.transactions, _BLOCK)):
            block_rng = np.random.default_rng([model.block_seed, number])
            pending.extend(_block(model, first, min(_BLOCK, spec.transactions - first), block_rng))
            taken = 0
            while len(pending) - taken >= batch_size:
                yield pending[taken : taken + batch_size]
                taken += batch_size
            pending = pending[taken:]
        if pending:
            yield pending

    return batches()


def generate(
    spec: DemoDataSpec,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Everything in memory, for small specs; fresh dicts each call, same seed => same data."""
    spec = _resolved(spec)
    rng = np.random.default_rng(spec.seed)
    products = generate_products(spec, rng)
    users = generate_users(spec, rng)
    transactions = [
        t for batch in iter_transaction_batches(spec, products, users, rng) for t in batch
    ]
    return products, users, transactions


async def database_is_empty(db: AsyncDatabase[Any]) -> bool:
    """True when there is no transaction yet: the signal to seed demo data."""
    return await db[TRANSACTIONS].find_one({}, projection={"_id": 1}) is None


async def write_demo_data(
    db: AsyncDatabase[Any], spec: DemoDataSpec, batch_size: int = 5_000
) -> dict[str, int]:
    """Inserts the same data as generate(spec) in unordered batches; returns counts written."""
    spec = _resolved(spec)
    rng = np.random.default_rng(spec.seed)
    counts = {PRODUCTS: 0, USERS: 0, TRANSACTIONS: 0}
    products = generate_products(spec, rng)
    users = generate_users(spec, rng)
    batches = iter_transaction_batches(spec, products, users, rng, batch_size)
    for name, docs in ((PRODUCTS, products), (USERS, users)):
        for i in range(0, len(docs), batch_size):
            result = await db[name].insert_many(docs[i : i + batch_size], ordered=False)
            counts[name] += len(result.inserted_ids)
    logger.info("Demo data: {} products, {} users written", counts[PRODUCTS], counts[USERS])
    step = max(spec.transactions // 10, 1)
    next_log = step
    for batch in batches:
        result = await db[TRANSACTIONS].insert_many(batch, ordered=False)
        counts[TRANSACTIONS] += len(result.inserted_ids)
        if counts[TRANSACTIONS] >= next_log:
            logger.info("Demo data: {}/{} transactions", counts[TRANSACTIONS], spec.transactions)
            next_log += step
    return counts
