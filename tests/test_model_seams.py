"""The seams between the core and each capability: what `read` gives, the fit takes and the
service is answered with are one type each (mypy checks the service; these tests check the
function a fit reference names, which mypy cannot see through its `module:function` string)."""

import inspect
import sys
from pathlib import Path
from typing import Any, ForwardRef, get_args, get_type_hints

import pytest

from app.core.lifecycle import ModelService
from app.core.observability import ServiceMetrics
from app.main import build_state
from tests import factories

MODELS = ("forecast", "anomaly", "recommend")  # every model the application registers


def _named(reference: Any, module: str) -> Any:
    """A type argument of a service, resolved where its fit function lives."""
    if isinstance(reference, ForwardRef):
        return getattr(sys.modules[module], reference.__forward_arg__)
    return reference


def _type_arguments(service: ModelService[Any, Any]) -> tuple[Any, ...]:
    base = next(b for b in type(service).__orig_bases__ if getattr(b, "__origin__", None))  # type: ignore[attr-defined]
    return get_args(base)


@pytest.fixture
async def services(tmp_path: Path) -> Any:
    """Every service the application registers, built as the lifespan builds them (nothing
    connects: the database's client is lazy)."""
    settings = factories.make_settings("mongodb://127.0.0.1:9", tmp_path)
    state = build_state(settings, factories.test_clock, ServiceMetrics())
    registered = {name: state[name] for name in state["registry"].states()}
    yield registered
    await state["database"].stop()


async def test_every_model_of_the_registry_has_a_service(services: dict[str, Any]) -> None:
    assert sorted(services) == sorted(MODELS)
    assert all(isinstance(service, ModelService) for service in services.values())


@pytest.mark.parametrize("name", MODELS)
async def test_each_fit_reference_resolves_to_a_function_typed_as_its_service(
    services: dict[str, Any], name: str
) -> None:
    service = services[name]
    spec = service.spec()
    fit = spec.fit.resolve()
    parameters = list(inspect.signature(fit).parameters)
    assert len(parameters) == 1, f"{spec.fit.target} must take one argument, read()'s data"
    hints = get_type_hints(fit)
    data_type, model_type = (_named(t, fit.__module__) for t in _type_arguments(service))
    assert hints[parameters[0]] is data_type
    assert hints["return"] is model_type
    assert spec.name == name
    assert spec.read == service.read
