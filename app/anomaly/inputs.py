"""What one anomaly training reads and its fit takes. Apart from the model's code, so that the
server builds it without importing any fitting library."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.config import AnomalyMethod


@dataclass(frozen=True)
class AnomalyInput:
    """The window's most recent transactions (`amount`, `quantity`, `productId`, `date`), each
    product's median unit price and quantity (`typical`), the catalogue's prices, and how to fit
    them: the detector, the flag budget and the start of the days it is calibrated on."""

    sample: list[dict[str, Any]]
    typical: dict[str, tuple[float, float]]
    catalogue: dict[str, float]
    model_type: AnomalyMethod
    contamination: float
    calibration_since: datetime | None = None
