"""What one forecast training reads and its fit takes. Apart from the model's code, so that the
server builds it without importing any fitting library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.config import ForecastMethod

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ForecastInput:
    """Complete UTC days of sales, in total and per category, and how to fit them."""

    total: pd.Series
    categories: pd.DataFrame
    model_type: ForecastMethod
    max_categories: int
