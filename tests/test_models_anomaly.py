import numpy as np
import pytest

from app.errors import NotEnoughData
from app.models.anomaly_detection import train_anomaly_detector

FEATURES = ["totalAmount", "quantity"]


def transactions(rows: int = 3000, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    quantity = rng.integers(1, 6, rows).astype(float)
    return np.column_stack([rng.lognormal(3.5, 0.8, rows) * quantity, quantity])


@pytest.mark.parametrize("model_type", ["IsolationForest", "OneClassSVM"])
def test_absurd_transaction_is_flagged_and_scores_lowest(model_type: str) -> None:
    data = transactions()
    model = train_anomaly_detector(data, FEATURES, model_type, 0.05)
    batch = np.vstack([data[:50], [[data[:, 0].max() * 500, 500]]])

    scores, flags = model.score(batch)

    assert flags[-1]
    assert scores[-1] <= scores[:-1].min()
    assert model.metrics["outlier_share"] == pytest.approx(0.05, abs=0.03)


def test_contamination_sets_the_share_flagged_in_training() -> None:
    low = train_anomaly_detector(transactions(), FEATURES, "IsolationForest", 0.01)
    high = train_anomaly_detector(transactions(), FEATURES, "IsolationForest", 0.2)

    assert low.metrics["outlier_share"] < high.metrics["outlier_share"]
    assert high.metrics["outlier_share"] == pytest.approx(0.2, abs=0.02)


def test_scoring_is_vectorised_over_the_batch() -> None:
    model = train_anomaly_detector(transactions(), FEATURES, "IsolationForest", 0.05)
    batch = transactions(500, seed=2)

    scores, flags = model.score(batch)
    one_by_one = np.array([model.score(row[None, :])[0][0] for row in batch[:20]])

    assert scores.shape == flags.shape == (500,)
    np.testing.assert_allclose(scores[:20], one_by_one)


def test_too_few_rows_are_refused() -> None:
    with pytest.raises(NotEnoughData, match="at least 50 transactions"):
        train_anomaly_detector(transactions(10), FEATURES, "IsolationForest", 0.05)
