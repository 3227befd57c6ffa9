"""The schemathesis configuration of the schema fuzzing, shared by its test
(tests/core/test_schema_fuzz.py) and its long run (bench/fuzz.py): the checks, the seed, and
ids from the data to mix into the generated values."""

from dataclasses import asdict, dataclass
from typing import Any

import schemathesis

# Never a 5xx; status code, content type, headers and body as the schema documents them.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
SEED = 20261126


@dataclass(frozen=True)
class KnownValues:
    """Values the data holds. Generated strings almost never name a product the model learnt
    from, a user it knows or a category: without these, the 200 answers of `similar`, of
    personal recommendations and of per-category forecasts would go unchecked."""

    users: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


# The parameters each kind of value goes to (`category` of the forecast and of recommendations).
_PARAMETERS = {
    "users": "path.user_id",
    "products": "path.product_id",
    "categories": "query.category",
}


def fuzz_config(
    examples: int,
    seed: int = SEED,
    known: KnownValues = KnownValues(),
    base_url: str | None = None,
    request_timeout: float | None = None,
) -> schemathesis.Config:
    """Derandomized from `seed`, at most `examples` fuzzed requests per operation (besides
    those of the examples and coverage phases); half of each kind of parameter drawn from
    `known` when it has values."""
    dictionaries = {name: list(values) for name, values in asdict(known).items() if values}
    data: dict[str, Any] = {
        "seed": seed,
        # The cache replays earlier runs' failures first: a run would depend on the last one.
        "cache": {"enabled": False},
        "generation": {"deterministic": True, "max-examples": examples, "database": "none"},
        # Hypothesis's limit on how long generating an input may take: on a busy 2-core machine
        # it can fail a run that found nothing; what is checked is the service's answers.
        "suppress-health-check": ["too_slow"],
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
        "parameters": {
            _PARAMETERS[name]: {"dictionary": name, "probability": 0.5} for name in dictionaries
        },
    }
    if base_url is not None:
        data["base-url"] = base_url
    if request_timeout is not None:
        data["request-timeout"] = request_timeout
    return schemathesis.Config.from_dict(data)
