"""What a recommendation request filters on besides the model, kept in memory: the catalogue of
the model's products (name, category, price, stock) and what each user bought since the model
was trained. Both are read in the background, so requests never wait for MongoDB; when it is
slow or down, requests are served from the last read and /status says how old it is."""

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from loguru import logger
from pymongo.errors import PyMongoError

from app.config import Settings
from app.core.clock import Clock
from app.errors import ServiceError
from app.recommend.catalogue import Catalogue
from app.recommend.queries import RecommendQueries

if TYPE_CHECKING:
    from app.recommend.model import Recommender

LATE_WRITES = timedelta(minutes=10)
STOP_SECONDS = 2.0  # how long shutdown waits for a refresh to end once cancelled


@dataclass(frozen=True)
class Snapshot:
    """A model, its version, and the catalogue read for its products: requests use one
    snapshot throughout."""

    model: "Recommender"
    version: str | None
    catalogue: Catalogue
    read_at: datetime


@dataclass(eq=False)
class ServingFilters:
    """Owns the snapshot, the purchases made since training, and the task refreshing them every
    RECOMMEND_REFRESH_SECONDS (`start`, `stop`)."""

    _queries: RecommendQueries
    _settings: Settings
    _clock: Clock
    snapshot: Snapshot | None = None
    purchases_read_at: datetime | None = None
    purchases_from: datetime | None = None  # the newest purchase read
    last_error: str | None = None
    _bought_since: dict[str, set[int]] = field(default_factory=dict)
    _newest: "Recommender | None" = None
    _newest_version: str | None = None
    _task: asyncio.Task[None] | None = None

    def bought_since(self, user_id: str) -> set[int]:
        """Item codes of the live snapshot's model the user bought since it was trained."""
        return self._bought_since.get(user_id, set())

    @property
    def users_with_new_purchases(self) -> int:
        return len(self._bought_since)

    async def prepare(self, model: "Recommender", metadata: dict[str, Any]) -> None:
        """Reads the catalogue of a new model's products and what was bought since its
        training, and only then serves the model with both, so it is never served with part of
        its filters; on a database error the previous snapshot stays, and the refresh task
        tries again. From here on, reads made for an older model are dropped."""
        self._newest, self._newest_version = model, metadata.get("version")
        await self._serve(model)

    async def _serve(self, model: "Recommender") -> None:
        """Reads the newest model's filters and serves it with them, unless a newer one came
        meanwhile."""
        read_at = self._clock()
        catalogue = await self._catalogue(model)
        if catalogue is None:
            return
        found = await self._purchases(model, datetime.fromtimestamp(model.trained_until, UTC))
        if found is None or model is not self._newest:
            return
        self.snapshot = Snapshot(model, self._newest_version, catalogue, read_at)
        self._bought_since, self.purchases_from = found
        self.purchases_read_at, self.last_error = read_at, None

    async def refresh(self) -> None:
        """Reads the catalogue again and the purchases since the last read; a model that could
        not go live with its filters (the database was down) gets them now."""
        model = self._newest
        if model is None:
            return
        snapshot = self.snapshot
        if snapshot is None or snapshot.model is not model:
            await self._serve(model)
            return
        read_at = self._clock()
        catalogue = await self._catalogue(model)
        if catalogue is None or model is not self._newest:
            return
        self.snapshot = replace(snapshot, catalogue=catalogue, read_at=read_at)
        found = await self._purchases(model, self.purchases_from or read_at)
        if found is None or model is not self._newest:
            return
        bought, self.purchases_from = found
        for user, items in bought.items():
            self._bought_since.setdefault(user, set()).update(items)
        self.purchases_read_at, self.last_error = read_at, None

    async def _catalogue(self, model: "Recommender") -> Catalogue | None:
        """The details of the model's products as read now; None when the read failed."""
        try:
            details = await self._queries.products([str(p) for p in model.item_ids])
        except (ServiceError, PyMongoError) as exc:
            self._failed("the catalogue", exc)
            return None
        return await asyncio.to_thread(Catalogue.build, model.item_ids, details)

    async def _purchases(
        self, model: "Recommender", start: datetime
    ) -> tuple[dict[str, set[int]], datetime] | None:
        """The products each user bought from `start` on (those the model knows: it never
        recommends the others anyway), and the newest date read; None when the read failed.
        The read starts LATE_WRITES earlier: a producer may write a transaction after a newer
        one."""
        try:
            pairs = await self._queries.purchases_since(start - LATE_WRITES)
        except (ServiceError, PyMongoError) as exc:
            self._failed("new purchases", exc)
            return None
        bought: dict[str, set[int]] = {}
        for user, product, last in pairs:
            item = model.item(product)
            if item is not None:
                bought.setdefault(user, set()).add(item)
            start = max(start, last)
        return bought, start

    def _failed(self, what: str, exc: ServiceError | PyMongoError) -> None:
        reason = exc.detail if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        self.last_error = f"Reading {what} failed: {reason}"
        logger.warning("Recommendation filters: {}", self.last_error)

    def start(self) -> None:
        self._task = asyncio.create_task(self._refresh_periodically(), name="recommend-filters")

    async def stop(self) -> None:
        """Cancels the refresh task and waits for it at most STOP_SECONDS: a cancel that lands
        while the driver selects a server can be lost, and shutdown must not wait for it."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=STOP_SECONDS)

    async def _refresh_periodically(self) -> None:
        """Refreshes until cancelled; an unexpected error is logged, and the next turn retries."""
        while True:
            await asyncio.sleep(self._settings.RECOMMEND_REFRESH_SECONDS)
            try:
                await self.refresh()
            except Exception:
                logger.exception("Refreshing the recommendation filters failed")
