"""The model's products as the shop's catalogue describes them, aligned with the model's item
codes, so that a request filters and names its recommendations without asking the database."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Catalogue:
    """Names, categories, prices and stock per item code; `available` is what may be shown:
    in the catalogue, named, and not out of stock (stock <= 0; an unknown stock is shown)."""

    names: np.ndarray  # object: str, or None when the catalogue lacks the product or its name
    categories: np.ndarray  # object: str or None
    prices: np.ndarray  # float64, NaN when unknown
    stock: np.ndarray  # float64, NaN when unknown
    available: np.ndarray  # bool
    category_codes: np.ndarray  # int32, -1 without a category
    category_index: dict[str, int]  # category's key (_key) -> code
    details: tuple[dict[str, Any], ...]  # per item code, what a recommendation shows of it

    @classmethod
    def build(cls, item_ids: np.ndarray, details: Mapping[str, Mapping[str, Any]]) -> "Catalogue":
        found = [details.get(str(item), {}) for item in item_ids]
        names = np.array([d.get("productName") for d in found], dtype=object)
        categories = np.array([d.get("category") for d in found], dtype=object)
        prices = np.array([_number(d.get("price")) for d in found], dtype=np.float64)
        stock = np.array([_number(d.get("stock")) for d in found], dtype=np.float64)
        index: dict[str, int] = {}
        codes = np.array(
            [-1 if c is None else index.setdefault(_key(c), len(index)) for c in categories],
            dtype=np.int32,
        )
        named = np.array([bool(name) for name in names], dtype=bool)
        shown = tuple(
            {
                "productName": name,
                "category": category,
                "price": None if np.isnan(price) else float(price),
                "stock": None if np.isnan(count) else int(count),
            }
            for name, category, price, count in zip(names, categories, prices, stock, strict=True)
        )
        return cls(
            names=names,
            categories=categories,
            prices=prices,
            stock=stock,
            available=named & ~(stock <= 0),
            category_codes=codes,
            category_index=index,
            details=shown,
        )

    def allowed(self, category: str | None) -> np.ndarray | None:
        """Items that may be shown, of `category` when given (any case); None for a category
        no product of the model has."""
        if category is None:
            return self.available
        code = self.category_index.get(_key(category))
        if code is None:
            return None
        result: np.ndarray = self.available & (self.category_codes == code)
        return result

    def describe(self, item: int) -> dict[str, Any]:
        """What a recommendation shows of an item, made once when the catalogue is read."""
        return self.details[item]

    @property
    def shown(self) -> int:
        return int(self.available.sum())


def _key(category: str) -> str:
    """Categories match without regard to case or surrounding spaces, as the forecasts' do."""
    return category.strip().casefold()


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)
