"""What one anomaly training reads and its fit takes. Apart from the model's code, so that the
server builds it without importing any fitting library."""

from dataclasses import dataclass
from typing import Any

from app.config import AnomalyMethod


@dataclass(frozen=True)
class AnomalyInput:
    """A sample of the window's transactions (`amount`, `quantity`, `productId`), each product's
    median unit price and quantity (`typical`), the catalogue's prices, and how to fit them."""

    sample: list[dict[str, Any]]
    typical: dict[str, tuple[float, float]]
    catalogue: dict[str, float]
    model_type: AnomalyMethod
    contamination: float
