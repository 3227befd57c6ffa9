"""What one recommender training reads and its fit takes. Apart from the model's code, so that
the server builds it without importing any fitting library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.config import RecommenderMethod

if TYPE_CHECKING:
    from app.recommend.purchases import Purchases


@dataclass(frozen=True)
class Config:
    """How to fit: the configured recommender, its size, its memory budget, and who gets
    personal recommendations."""

    model_type: RecommenderMethod
    components: int
    max_model_mb: float
    min_items: int  # distinct products a user needs for personal recommendations


@dataclass(frozen=True)
class RecommendInput:
    purchases: Purchases
    config: Config
