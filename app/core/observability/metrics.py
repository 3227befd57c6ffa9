"""Prometheus metrics: what the service counts and what it reads at scrape time (served at
`/metrics` by `app.core.routes.metrics`).

Each application owns its `CollectorRegistry` (not prometheus-client's global one), so that
several apps in one process (the tests) do not share counters. Requests and trainings are
counted as they happen (`RequestMetrics` middleware, the registry's training listener); the
models' age, rows, state and version and the database's state are read from the registry and
the database watcher when Prometheus scrapes, so nothing else keeps them up to date.

Several worker processes (AI_SERVICE_WORKERS > 1): `app.server` points PROMETHEUS_MULTIPROC_DIR
at a fresh directory before the workers start, so every counter and histogram is kept in a file
per process there, and a scrape, whichever worker answers it, sums them all
(`MultiProcessCollector`); the models' and the database's figures are read from the answering
worker, which serves the same versions as its siblings.
"""

import os
from collections.abc import Iterator
from datetime import datetime
from typing import get_args

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from app.core.clock import Clock
from app.core.db import Database
from app.core.lifecycle import ModelRegistry, TrainingEnded
from app.core.names import ModelState

# Counters and histograms without their `_created` series: half the lines, no information the
# scraper lacks (it sees restarts as counter resets).
prometheus_client.disable_created_metrics()

PREFIX = "ai_service"
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"  # the route label of a request no route matched: bounded cardinality
# From sub-millisecond answers (health, cached forecasts) to the 30 s a backend waits.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
TRAINING_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
_STATES: tuple[ModelState, ...] = get_args(ModelState)


class ServiceMetrics:
    """The registry and the instruments of one application."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._instruments()
        self._collector: _ModelCollector | None = None

    def _instruments(self) -> None:
        def counter(name: str, documentation: str, labels: list[str]) -> Counter:
            return Counter(f"{PREFIX}_{name}", documentation, labels, registry=self.registry)

        def histogram(
            name: str, documentation: str, labels: list[str], buckets: tuple[float, ...]
        ) -> Histogram:
            return Histogram(
                f"{PREFIX}_{name}", documentation, labels, buckets=buckets, registry=self.registry
            )

        self.requests = counter(
            "http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
        )
        self.request_seconds = histogram(
            "http_request_duration_seconds",
            "Time from receiving a request to the end of its answer, by route template.",
            ["route", "method"],
            REQUEST_BUCKETS,
        )
        self.trainings = counter(
            "trainings",
            "Trainings ended, by model and outcome (success or failure).",
            ["model", "outcome"],
        )
        self.save_failures = counter(
            "model_save_failures",
            "Trained models that could not be saved (full or read-only model folder, store "
            "unreachable), by model: not served, the version in service kept.",
            ["model"],
        )
        self.training_seconds = histogram(
            "training_duration_seconds",
            "Whole trainings (read, fit, save, preparing to serve), by model and outcome.",
            ["model", "outcome"],
            TRAINING_BUCKETS,
        )
        self.training_phase_seconds = histogram(
            "training_phase_seconds",
            "The phases of successful trainings: the MongoDB read (query), the rollups' update "
            "within it (rollup), and the fit.",
            ["model", "phase"],
            TRAINING_BUCKETS,
        )

        self.rollup_rows = counter(
            "rollup_rows_written",
            "Rows the rollups' updates wrote before the trainings that read them, by model.",
            ["model"],
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.request_seconds.labels(route, method).observe(seconds)

    def record_training(self, ended: TrainingEnded) -> None:
        """The registry's training listener."""
        outcome = "success" if ended.succeeded else "failure"
        self.trainings.labels(ended.name, outcome).inc()
        self.training_seconds.labels(ended.name, outcome).observe(ended.seconds)
        if ended.save_failed:
            self.save_failures.labels(ended.name).inc()
        for phase in ("query", "rollup", "fit"):
            seconds = (ended.metadata or {}).get(f"{phase}_seconds")
            if seconds is not None:
                self.training_phase_seconds.labels(ended.name, phase).observe(seconds)
        rows = (ended.metadata or {}).get("rollup_rows")
        if rows:
            self.rollup_rows.labels(ended.name).inc(rows)

    def watch(self, models: ModelRegistry, database: Database, clock: Clock) -> None:
        """Counts the registry's trainings, and reads the models and the database at each
        scrape; `unwatch` at shutdown."""
        models.on_training(self.record_training)
        self._collector = _ModelCollector(models, database, clock)
        self.registry.register(self._collector)

    def unwatch(self) -> None:
        if self._collector is not None:
            self.registry.unregister(self._collector)
            self._collector = None
        if _multiprocess_directory():
            multiprocess.mark_process_dead(os.getpid())

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The metrics in the format the scraper accepts (Prometheus text unless it asks for
        OpenMetrics), and its content type; with several workers, every worker's counts."""
        encoder, content_type = choose_encoder(accept or "")
        registry = self.registry
        if _multiprocess_directory():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            if self._collector is not None:
                registry.register(self._collector)
        return encoder(registry), content_type


def _multiprocess_directory() -> str | None:
    return os.environ.get(MULTIPROCESS_DIRECTORY)


class _ModelCollector:
    """Reads, at scrape time, what the registry and the database watcher already know: no
    database ping, no model work."""

    def __init__(self, models: ModelRegistry, database: Database, clock: Clock) -> None:
        self._models, self._database, self._clock = models, database, clock

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        age = GaugeMetricFamily(
            f"{PREFIX}_model_age_seconds",
            "Seconds since the live model was trained.",
            labels=["model"],
        )
        rows = GaugeMetricFamily(
            f"{PREFIX}_model_rows_used",
            "Rows the live model was trained on (days, transactions or users).",
            labels=["model"],
        )
        state = GaugeMetricFamily(
            f"{PREFIX}_model_state",
            "1 for the model's current state, 0 for the others.",
            labels=["model", "state"],
        )
        info = InfoMetricFamily(
            f"{PREFIX}_model", "The live model's version and type.", labels=["model"]
        )
        for name in self._models.states():
            described = self._models.describe(name)
            for candidate in _STATES:
                state.add_metric([name, candidate], 1.0 if described.state == candidate else 0.0)
            if isinstance(described.last_retrain_time, datetime):
                age.add_metric([name], (now - described.last_retrain_time).total_seconds())
            if described.rows_used is not None:
                rows.add_metric([name], described.rows_used)
            if described.version is not None:
                info.add_metric(
                    [name], {"version": described.version, "model_type": described.model_type}
                )
        yield from (age, rows, state, info)
        yield GaugeMetricFamily(
            f"{PREFIX}_database_up",
            "1 when MongoDB answered the watcher's last ping (every DB_WATCH_INTERVAL_SECONDS).",
            value=1.0 if self._database.connected else 0.0,
        )
