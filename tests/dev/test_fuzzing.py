"""The fuzzing configuration: ids from the data are mixed into the generated ones, and only
the service's checks run."""

import pytest
import schemathesis
from hypothesis import find, settings

from app.config import Settings
from app.dev.fuzzing import CHECKS, KnownValues, fuzz_config
from app.main import create_app

SIMILAR = "/api/v1/recommend/product/{product_id}/similar"


def _similar(known: KnownValues) -> schemathesis.APIOperation:
    document = create_app(Settings(_env_file=None)).openapi()
    schema = schemathesis.openapi.from_dict(document, config=fuzz_config(10, known=known))
    return schema[SIMILAR]["GET"]


@pytest.mark.slow
def test_known_ids_are_mixed_into_generated_ones() -> None:
    strategy = _similar(KnownValues(products=("p-known",))).as_strategy()
    quick = settings(database=None, derandomize=True)

    known = find(
        strategy, lambda case: case.path_parameters["product_id"] == "p-known", settings=quick
    )
    other = find(
        strategy, lambda case: case.path_parameters["product_id"] != "p-known", settings=quick
    )

    assert known.path_parameters["product_id"] == "p-known"
    assert other.path_parameters["product_id"] != "p-known"


def test_only_the_services_checks_are_enabled() -> None:
    checks = fuzz_config(10).projects.get_default().checks

    enabled = {name for name in CHECKS if getattr(checks, name).enabled}
    assert enabled == set(CHECKS)
    assert not checks.positive_data_acceptance.enabled
    assert not checks.negative_data_rejection.enabled
