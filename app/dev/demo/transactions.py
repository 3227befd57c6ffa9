"""The transaction documents, streamed in chronological batches, with their injected anomalies.

Why apart: this is where a million documents are built, so it is the part that must stay
fast and bounded in memory; it samples from the `demand` model block by block, each block
with its own child RNG, so the data does not depend on the batch size.
"""

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from app.dev.demo.demand import DemandModel, build_demand_model
from app.dev.demo.draws import addresses, uuid4s
from app.dev.demo.spec import DemoDataSpec, datetimes

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
_OWN_ADDRESS_SHARE = 0.92  # the rest ships to another address (gifts, work)

_BLOCK = 8_192  # transactions drawn per RNG block: output does not depend on batch_size


def is_anomalous(transaction: Mapping[str, Any], price: float) -> bool:
    """Ground truth for benchmarks: every injected anomaly, and only those, matches this rule."""
    quantity = int(transaction["quantity"])
    return quantity > MAX_NORMAL_QUANTITY or transaction["totalPrice"] > price * quantity * 1.5


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


def _block(
    model: DemandModel, first: int, n: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
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
    shipping = [model.user_addresses[u] for u in users.tolist()]
    for i, address in zip(elsewhere.tolist(), addresses(rng, len(elsewhere)), strict=True):
        shipping[i] = address
    ids = uuid4s(rng, n)
    dates = datetimes(when)
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
                shipping,
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
    model = build_demand_model(spec, products, users, rng)

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
