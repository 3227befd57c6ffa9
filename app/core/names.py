"""The models the service serves, named once so that a typo is a type error, not a KeyError."""

from typing import Literal, get_args

ModelName = Literal["forecast", "anomaly", "recommend"]
MODEL_NAMES: tuple[ModelName, ...] = get_args(ModelName)
ModelState = Literal["not_trained", "loading", "training", "trained", "failed"]
