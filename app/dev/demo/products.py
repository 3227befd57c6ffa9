"""The product catalogue: categories, their demand and price levels, and the product documents.

Why apart: the categories and their relative demand shape the catalogue here and users'
tastes in `demand`; prices are drawn once here and every transaction's total derives from them.
"""

from typing import Any

import numpy as np

from app.dev.demo.draws import pick, uuid4s
from app.dev.demo.spec import DAY_MS, DemoDataSpec, datetimes, period_ms
from app.dev.demo.vocabulary import FEATURES, WORDS

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
CATEGORY_POPULARITY = np.array([1.6, 1.0, 1.3, 1.5, 0.9, 0.9, 0.5, 0.8, 0.7, 0.8])
# Median price per category; prices are log-normal around it.
_PRICE_MEDIAN = np.array([180.0, 22.0, 55.0, 45.0, 60.0, 28.0, 80.0, 18.0, 30.0, 32.0])
_PRICE_SIGMA = 0.75
PRICE_MIN, PRICE_MAX = 10.0, 2500.0


def _category_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Category per product, weighted by demand; every category is present once n >= 10."""
    k = len(CATEGORIES)
    p = CATEGORY_POPULARITY / CATEGORY_POPULARITY.sum()
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
    start_ms, end_ms = period_ms(spec)
    codes = _category_codes(rng, n)
    ids = uuid4s(rng, n)
    prices = _prices(rng, codes)
    stock = np.where(rng.random(n) < 0.04, 0, rng.integers(1, 1001, n))
    added = start_ms - (rng.random(n) * 730 * DAY_MS).astype(np.int64)
    updated = added + (rng.random(n) * (end_ms - added)).astype(np.int64)
    word_draws = rng.random((n, 4))
    models = rng.integers(1, 100, n).tolist()
    features = pick(rng, FEATURES, n)
    added_dt, updated_dt = datetimes(added), datetimes(updated)
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
