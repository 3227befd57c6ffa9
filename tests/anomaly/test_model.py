"""The anomaly model on constructed data: what it flags, how it explains, what it falls back on."""

import numpy as np
import pytest

from app.anomaly.explain import explain
from app.anomaly.features import read_points
from app.anomaly.model import AnomalyModel, AnomalyModelType, train_from_sample
from app.errors import NotEnoughData
from tests.factories import priced_sample, product_references, usual_prices


def _model(model_type: AnomalyModelType = "ECOD", contamination: float = 0.01) -> AnomalyModel:
    return train_from_sample(priced_sample(), product_references(), {}, model_type, contamination)


@pytest.mark.parametrize("model_type", ["ECOD", "IsolationForest", "OneClassSVM"])
def test_absurd_transaction_is_flagged_and_scores_lowest(model_type: AnomalyModelType) -> None:
    model = _model(model_type, 0.05)
    normal = [
        {"totalAmount": d["amount"], "quantity": d["quantity"], "productId": d["productId"]}
        for d in priced_sample(50, seed=2)
    ]
    absurd = {"totalAmount": 2_500_000.0, "quantity": 400, "productId": "p3"}

    scored = model.score(read_points([*normal, absurd]))

    assert scored.flags[-1]
    assert scored.scores[-1] <= scored.scores[:-1].min()
    assert model.metrics["outlier_share"] == pytest.approx(0.05, abs=0.03)


def test_a_wrong_unit_price_for_its_product_is_flagged_and_explained() -> None:
    """200.00 is an ordinary unit price across the catalogue, and an ordinary amount, but this
    product usually sells at about 2.00: only the price ratio can see it."""
    model = _model()
    usual = usual_prices()["p0"]
    point = {"totalAmount": 200.0, "quantity": 1, "productId": "p0"}

    scored = model.score(read_points([point]))
    reasons = explain(model, scored)[0]

    assert scored.flags[0]
    assert reasons[0].feature == "price_ratio"
    assert reasons[0].value == pytest.approx(200.0)
    assert reasons[0].usual_low < usual < reasons[0].usual_high < 200.0
    assert reasons[0].sentence == (
        f"unit price 200.00 is {200.0 / usual:,.1f}× this product's usual {usual:,.2f}"
    )


def test_a_price_far_below_the_usual_is_explained_as_a_fraction() -> None:
    model = _model()
    point = {"totalAmount": 20.0, "quantity": 1, "productId": "p39"}  # usually 2,000.00

    scored = model.score(read_points([point]))
    reasons = explain(model, scored)[0]

    assert scored.flags[0]
    assert reasons[0].feature == "price_ratio"
    assert (
        reasons[0].sentence == "unit price 20.00 is 0.01× (1/100 of) this product's usual 2,000.00"
    )


def test_an_unseen_product_is_compared_with_its_catalogue_price() -> None:
    model = train_from_sample(priced_sample(), product_references(), {"new": 50.0}, "ECOD", 0.01)
    points = [
        {"totalAmount": 50.0, "quantity": 1, "productId": "new"},
        {"totalAmount": 5000.0, "quantity": 1, "productId": "new"},
    ]

    scored = model.score(read_points(points))
    reasons = explain(model, scored)

    assert scored.references.price_sources == ["catalogue", "catalogue"]
    assert not scored.flags[0]
    assert scored.flags[1]
    assert "this product's catalogue price 50.00" in reasons[1][0].sentence


def test_a_point_without_a_known_product_is_scored_on_what_it_has() -> None:
    """No product (or one nobody knows): no price ratio, and no made-up zero either, so the
    score is the same whether the id is absent or unknown, and the point is not flagged for it."""
    model = _model()
    without = {"totalAmount": 200.0, "quantity": 1}
    unknown = {**without, "productId": "never-seen"}

    scored = model.score(read_points([without, unknown]))

    assert np.isnan(scored.features[:, 2]).all()
    assert scored.references.price_sources == [None, None]
    assert scored.scores[0] == scored.scores[1]
    assert not scored.flags.any()


def test_severity_grows_with_how_far_out_a_point_is() -> None:
    model = _model()
    points = [
        {"totalAmount": 100.0, "quantity": 1, "productId": "p20"},
        {"totalAmount": 10**7, "quantity": 300, "productId": "p0"},
    ]

    scored = model.score(read_points(points))

    assert scored.severities == ["low", "high"]
    assert set(model.severity_cutoffs) == {"medium", "high"}
    assert model.threshold <= model.severity_cutoffs["medium"] <= model.severity_cutoffs["high"]


def test_contamination_sets_the_share_flagged_in_training() -> None:
    low, high = _model(contamination=0.01), _model(contamination=0.2)

    assert low.metrics["outlier_share"] < high.metrics["outlier_share"]
    assert high.metrics["outlier_share"] == pytest.approx(0.2, abs=0.02)


def test_scoring_is_vectorised_over_the_batch() -> None:
    model = _model()
    points = [
        {"totalAmount": d["amount"], "quantity": d["quantity"], "productId": d["productId"]}
        for d in priced_sample(500, seed=2)
    ]

    batch = model.score(read_points(points)).scores
    one_by_one = [model.score(read_points([p])).scores[0] for p in points[:20]]

    assert batch.shape == (500,)
    np.testing.assert_allclose(batch[:20], one_by_one)


def test_too_few_rows_are_refused() -> None:
    with pytest.raises(NotEnoughData, match="at least 50 transactions"):
        train_from_sample(priced_sample(10), {}, {}, "ECOD", 0.01)
