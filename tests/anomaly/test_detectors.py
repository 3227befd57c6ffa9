"""The detector table: every name the setting accepts builds a detector, and models saved with
the bare estimators of before still load and score the same."""

import pickle
from typing import get_args

import numpy as np
import pytest

from app.anomaly.detectors import DETECTORS, DetectorName, Scaled, TailSum
from app.anomaly.features import read_points
from app.anomaly.model import AnomalyModel, train_from_sample
from app.anomaly.tails import EmpiricalTails
from tests.factories import priced_sample, product_references

FEATURES = np.random.default_rng(0).lognormal(size=(300, 4))
FEATURES[::7, 3] = np.nan  # a missing price ratio, as for a product without references


def test_every_name_the_setting_accepts_has_a_builder() -> None:
    assert set(DETECTORS) == set(get_args(DetectorName))


@pytest.mark.parametrize("name", get_args(DetectorName))
def test_every_detector_fits_and_scores_small_data(name: DetectorName) -> None:
    surprise = EmpiricalTails.fit(FEATURES).surprise(FEATURES)

    scores = DETECTORS[name](FEATURES, 0.05, 42).raw_scores(FEATURES, surprise)

    assert scores.shape == (len(FEATURES),)
    assert np.isfinite(scores).all()


def test_one_class_svm_is_fitted_on_a_bounded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.anomaly.detectors.ONE_CLASS_SVM_MAX_ROWS", 50)

    detector = DETECTORS["OneClassSVM"](FEATURES, 0.05, 42)

    assert isinstance(detector, Scaled)
    assert detector.scaler.n_samples_seen_ == 50


@pytest.mark.parametrize("name", get_args(DetectorName))
def test_a_model_saved_with_a_bare_estimator_loads_and_scores_the_same(
    name: DetectorName,
) -> None:
    model = train_from_sample(priced_sample(), product_references(), {}, name, 0.02)
    detector = model.detector
    saved = object.__new__(AnomalyModel)
    saved.__dict__.update(
        vars(model),
        detector=detector.estimator if isinstance(detector, Scaled) else None,
        scaler=detector.scaler if isinstance(detector, Scaled) else None,
    )
    points = read_points(
        [{"totalAmount": d["amount"], "quantity": d["quantity"], "productId": d["productId"]}
         for d in priced_sample(100, seed=2)]
    )  # fmt: skip

    loaded = pickle.loads(pickle.dumps(saved))

    assert isinstance(loaded.detector, TailSum if name == "ECOD" else Scaled)
    assert "scaler" not in vars(loaded)
    np.testing.assert_array_equal(loaded.score(points).scores, model.score(points).scores)
