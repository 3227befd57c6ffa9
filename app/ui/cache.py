"""Answers that are slow to compute, kept briefly and refreshed behind the page's back.

The anomaly section scans the stored transactions of its window: about 0.7 s for 7 days and
1.9 s for 30 days of the 50,000-transaction demo data, well over the page's 300 ms. An answer is
served as it is for FRESH_SECONDS; until STALE_SECONDS, it is still served at once while a
background task recomputes it (one per key); older, or never computed, it is computed while the
visitor waits. The page says when the answer it shows was computed."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from loguru import logger

from app.errors import ServiceError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
FRESH_SECONDS = 60.0
STALE_SECONDS = 600.0
STOP_SECONDS = 1.0  # how long shutdown waits for a recount to end once cancelled


@dataclass(frozen=True)
class Kept(Generic[V]):
    value: V
    computed_at: datetime  # by the service's clock, to be shown
    at: float  # time.monotonic(), to age it


@dataclass(eq=False)
class RefreshingCache(Generic[K, V]):
    """Kept answers by key; `replaces(new, old)` says which keys a new answer makes obsolete
    (a new model's answers replace the previous model's)."""

    clock: Callable[[], datetime]
    replaces: Callable[[K, K], bool] = lambda new, old: new == old
    entries: dict[K, Kept[V]] = field(default_factory=dict)
    _refreshing: dict[K, asyncio.Task[None]] = field(default_factory=dict)

    async def get(self, key: K, compute: Callable[[], Awaitable[V]]) -> Kept[V]:
        """The kept answer, refreshed in the background once past FRESH_SECONDS; computed now
        when there is none or it is past STALE_SECONDS (a `ServiceError` then reaches the
        caller)."""
        kept = self.entries.get(key)
        age = time.monotonic() - kept.at if kept is not None else None
        if kept is None or age is None or age >= STALE_SECONDS:
            return self._keep(key, await compute())
        if age >= FRESH_SECONDS and key not in self._refreshing:
            self._refreshing[key] = asyncio.create_task(self._refresh(key, compute))
        return kept

    def _keep(self, key: K, value: V) -> Kept[V]:
        kept = Kept(value, self.clock(), time.monotonic())
        self.entries = {k: v for k, v in self.entries.items() if not self.replaces(key, k)}
        self.entries[key] = kept
        return kept

    async def _refresh(self, key: K, compute: Callable[[], Awaitable[V]]) -> None:
        try:
            self._keep(key, await compute())
        except ServiceError as exc:  # the next view computes it and shows the error
            logger.warning("Could not refresh the page's {}: {}", key, exc.detail)
            self.entries.pop(key, None)
        finally:
            self._refreshing.pop(key, None)

    async def stop(self) -> None:
        """Cancels the refreshes under way (at shutdown)."""
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        if tasks:  # bounded: a cancel that lands while the driver awaits MongoDB can be lost
            await asyncio.wait(tasks, timeout=STOP_SECONDS)
