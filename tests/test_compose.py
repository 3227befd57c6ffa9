"""The compose files, read as Docker Compose reads them (no Docker engine runs here): what
they publish, and how long they give the service to stop."""

from pathlib import Path
from typing import Any

import yaml

from app.config import Settings
from app.core.db.database import CLOSE_SECONDS
from app.core.lifecycle.trainer import STOP_SECONDS

ROOT = Path(__file__).resolve().parents[1]


class _ComposeLoader(yaml.SafeLoader):
    """YAML with Compose's `!reset` tag (Compose 2.24+), kept as a marker."""


def _reset(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, list[Any]]:
    if not isinstance(node, yaml.SequenceNode):
        raise yaml.constructor.ConstructorError(
            None, None, "!reset takes a list here", node.start_mark
        )
    return {"!reset": loader.construct_sequence(node)}


_ComposeLoader.add_constructor("!reset", _reset)


def _service(file: str) -> dict[str, Any]:
    document = yaml.load((ROOT / file).read_text(), Loader=_ComposeLoader)
    service: dict[str, Any] = document["services"]["ai_service"]
    return service


def test_the_service_is_published_on_the_hosts_loopback_only() -> None:
    ports = _service("docker-compose.yml")["ports"]

    assert ports
    assert all(str(port).startswith("127.0.0.1:") for port in ports)


def test_replicas_publish_no_host_port() -> None:
    assert _service("docker-compose.replicas.yml")["ports"] == {"!reset": []}


def test_the_stop_grace_period_covers_the_graceful_shutdown_and_the_stops() -> None:
    grace = _service("docker-compose.yml")["stop_grace_period"]
    graceful = Settings(_env_file=None).AI_SERVICE_GRACEFUL_SHUTDOWN_SECONDS

    assert grace.endswith("s")
    # The stops run side by side (STOP_SECONDS each), then the database's watcher and client.
    stops = STOP_SECONDS + 2 * CLOSE_SECONDS
    # Under a bare `docker stop`'s 10 s, and under the compose file's grace.
    assert graceful + stops < 10 <= int(grace.removesuffix("s"))


def test_the_healthcheck_bounds_its_wait_and_outlasts_held_request_heads() -> None:
    service = _service("docker-compose.yml")
    check = service["healthcheck"]
    probe = " ".join(check["test"])
    head_timeout = service["environment"]["REQUEST_HEAD_TIMEOUT_SECONDS"]
    default = Settings(_env_file=None).REQUEST_HEAD_TIMEOUT_SECONDS

    # The probe's own bound on the answer is under compose's, which kills it.
    assert "timeout=4" in probe
    assert int(check["timeout"].removesuffix("s")) > 4
    # The compose file passes the setting, with the service's default.
    assert head_timeout == "${REQUEST_HEAD_TIMEOUT_SECONDS:-10}"
    assert default == 10
    # A restart needs its failures to span more than a head timeout: held heads are closed
    # before the orchestrator gives up on the container.
    assert int(check["interval"].removesuffix("s")) * (check["retries"] - 1) > default
