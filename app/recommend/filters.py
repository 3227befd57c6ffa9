"""What a recommendation request filters on besides the model, kept in memory: the catalogue of
the model's products (name, category, price, stock) and what each user bought since the model
was trained. Both are read in the background, so requests never wait for MongoDB; when it is
slow or down, requests are served from the last read and /status says how old it is."""

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from loguru import logger
from pymongo.errors import PyMongoError

from app.config import Settings
from app.core.clock import Clock
from app.errors import ServiceError
from app.recommend.catalogue import Catalogue
from app.recommend.queries import RecommendQueries

if TYPE_CHECKING:
    from app.recommend.model import Recommender


@dataclass(frozen=True)
class Snapshot:
    """A model and the catalogue read for its products: requests use one snapshot throughout."""

    model: "Recommender"
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
    _task: asyncio.Task[None] | None = None

    def bought_since(self, user_id: str) -> set[int]:
        """Item codes of the live snapshot's model the user bought since it was trained."""
        return self._bought_since.get(user_id, set())

    @property
    def users_with_new_purchases(self) -> int:
        return len(self._bought_since)

    async def prepare(self, model: "Recommender") -> None:
        """Reads the catalogue of a new model's products and what was bought since its
        training, before it goes live; on a database error the previous snapshot stays, and
        the refresh task tries again. From here on, reads made for an older model are dropped."""
        self._newest = model
        if not await self._read_catalogue(model):
            return
        self._bought_since = {}
        self.purchases_from = datetime.fromtimestamp(model.trained_until, UTC)
        self.purchases_read_at = None
        await self._read_purchases(model)

    async def refresh(self) -> None:
        """Reads the catalogue again and the purchases since the last read; a model that went
        live without its catalogue (the database was down) gets it now."""
        model = self._newest
        if model is None:
            return
        if self.snapshot is None or self.snapshot.model is not model:
            await self.prepare(model)
        elif await self._read_catalogue(model):
            await self._read_purchases(model)

    async def _read_catalogue(self, model: "Recommender") -> bool:
        """Replaces the snapshot with `model` and its products' details as read now."""
        read_at = self._clock()
        try:
            details = await self._queries.products([str(p) for p in model.item_ids])
        except (ServiceError, PyMongoError) as exc:
            self._failed("the catalogue", exc)
            return False
        catalogue = await asyncio.to_thread(Catalogue.build, model.item_ids, details)
        if model is not self._newest:
            return False
        self.snapshot = Snapshot(model, catalogue, read_at)
        return True

    async def _read_purchases(self, model: "Recommender") -> None:
        """Adds the purchases dated from the last one read on; products the model does not
        know are skipped: it never recommends them anyway."""
        start = self.purchases_from
        if start is None:
            return
        read_at = self._clock()
        try:
            pairs = await self._queries.purchases_since(start)
        except (ServiceError, PyMongoError) as exc:
            self._failed("new purchases", exc)
            return
        if model is not self._newest:
            return
        for user, product, last in pairs:
            item = model.item(product)
            if item is not None:
                self._bought_since.setdefault(user, set()).add(item)
            start = max(start, last)
        self.purchases_from, self.purchases_read_at, self.last_error = start, read_at, None

    def _failed(self, what: str, exc: ServiceError | PyMongoError) -> None:
        reason = exc.detail if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        self.last_error = f"Reading {what} failed: {reason}"
        logger.warning("Recommendation filters: {}", self.last_error)

    def start(self) -> None:
        self._task = asyncio.create_task(self._refresh_periodically(), name="recommend-filters")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _refresh_periodically(self) -> None:
        """Refreshes until cancelled; an unexpected error is logged, and the next turn retries."""
        while True:
            await asyncio.sleep(self._settings.RECOMMEND_REFRESH_SECONDS)
            try:
                await self.refresh()
            except Exception:
                logger.exception("Refreshing the recommendation filters failed")
