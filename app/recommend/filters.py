"""What a recommendation request filters on besides the model, kept in memory: the catalogue of
the model's products (name, category, price, stock) and what each user bought since the model
was trained. Both are read in the background, so requests never wait for MongoDB; when it is
slow or down, requests are served from the last read and /status says how old it is."""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from loguru import logger

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


class ServingFilters:
    """Owns the snapshot, the purchases made since training, and the task refreshing them every
    RECOMMEND_REFRESH_SECONDS (`start`, `stop`)."""

    def __init__(
        self,
        queries: RecommendQueries,
        settings: Settings,
        clock: Clock,
        live: "Callable[[], Recommender | None]",
    ) -> None:
        self._queries = queries
        self._settings = settings
        self._clock = clock
        self._live = live
        self.snapshot: Snapshot | None = None
        self._bought_since: dict[str, set[int]] = {}
        self.purchases_read_at: datetime | None = None
        self.purchases_from: datetime | None = None
        self.last_error: str | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def bought_since(self, user_id: str) -> set[int]:
        """Item codes of the live snapshot's model the user bought since it was trained."""
        return self._bought_since.get(user_id, set())

    @property
    def users_with_new_purchases(self) -> int:
        return len(self._bought_since)

    async def prepare(self, model: "Recommender") -> None:
        """Reads the catalogue of a new model's products and what was bought since its
        training, before it goes live; on a database error the previous snapshot stays, and
        the refresh task tries again."""
        async with self._lock:
            if not await self._read_catalogue(model):
                return
            self._bought_since = {}
            self.purchases_from = datetime.fromtimestamp(model.trained_until, UTC)
            self.purchases_read_at = None
            await self._read_purchases(model)

    async def refresh(self) -> None:
        """Reads the catalogue again and the purchases since the last read; a model that went
        live without its catalogue (the database was down) gets it now."""
        live = self._live()
        if live is None:
            return
        if self.snapshot is None or self.snapshot.model is not live:
            await self.prepare(live)
            return
        async with self._lock:
            if self.snapshot.model is live and await self._read_catalogue(live):
                await self._read_purchases(live)

    async def _read_catalogue(self, model: "Recommender") -> bool:
        """Replaces the snapshot with `model` and its products' details as read now."""
        read_at = self._clock()
        try:
            details = await self._queries.products([str(p) for p in model.item_ids])
        except ServiceError as exc:
            self._failed("the catalogue", exc)
            return False
        catalogue = await asyncio.to_thread(Catalogue.build, model.item_ids, details)
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
        except ServiceError as exc:
            self._failed("new purchases", exc)
            return
        for user, product, last in pairs:
            item = model.item(product)
            if item is not None:
                self._bought_since.setdefault(user, set()).add(item)
            start = max(start, last)
        self.purchases_from, self.purchases_read_at, self.last_error = start, read_at, None

    def _failed(self, what: str, exc: ServiceError) -> None:
        self.last_error = f"Reading {what} failed: {exc.detail}"
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
