import numpy as np
import pytest

from app.anomaly.model import AnomalyModelType, train_anomaly_detector
from app.errors import NotEnoughData
from tests.factories import transactions

FEATURES = ["totalAmount", "quantity"]


@pytest.mark.parametrize("model_type", ["IsolationForest", "OneClassSVM"])
def test_absurd_transaction_is_flagged_and_scores_lowest(model_type: AnomalyModelType) -> None:
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
