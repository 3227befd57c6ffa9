"""The page's kept answers: fresh ones served as they are, stale ones served while a background
task recomputes them, old or missing ones computed while the caller waits."""

import asyncio
from datetime import UTC, datetime

import pytest

from app.errors import DatabaseUnavailable
from app.ui.cache import FRESH_SECONDS, STALE_SECONDS, RefreshingCache

MOMENT = datetime(2026, 6, 15, 12, tzinfo=UTC)


class Answers:
    """Counts its calls; answers the call's number, or raises what it is told to."""

    def __init__(self) -> None:
        self.calls = 0
        self.error: Exception | None = None
        self.release = asyncio.Event()
        self.release.set()

    async def compute(self) -> int:
        self.calls += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.calls


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The cache's monotonic clock, set by the test."""
    clock = [0.0]
    monkeypatch.setattr("app.ui.cache.time.monotonic", lambda: clock[0])
    return clock


def _cache() -> RefreshingCache[tuple[int, str], int]:
    return RefreshingCache(lambda: MOMENT, lambda new, old: new == old or new[1] != old[1])


async def _background_done() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_fresh_answer_is_served_without_computing_again(now: list[float]) -> None:
    cache, answers = _cache(), Answers()

    first = await cache.get((7, "v1"), answers.compute)
    now[0] = FRESH_SECONDS - 1
    again = await cache.get((7, "v1"), answers.compute)

    assert (first.value, again.value, answers.calls) == (1, 1, 1)
    assert again.computed_at == MOMENT


async def test_a_stale_answer_is_served_at_once_and_refreshed_behind(now: list[float]) -> None:
    cache, answers = _cache(), Answers()
    await cache.get((7, "v1"), answers.compute)
    now[0] = FRESH_SECONDS + 1

    served = await cache.get((7, "v1"), answers.compute)
    await _background_done()
    after = await cache.get((7, "v1"), answers.compute)

    assert served.value == 1
    assert after.value == 2
    assert answers.calls == 2


async def test_an_old_answer_is_computed_again_while_the_caller_waits(now: list[float]) -> None:
    cache, answers = _cache(), Answers()
    await cache.get((7, "v1"), answers.compute)
    now[0] = STALE_SECONDS

    assert (await cache.get((7, "v1"), answers.compute)).value == 2


@pytest.mark.usefixtures("now")
async def test_a_new_model_versions_answer_replaces_the_old_versions() -> None:
    cache, answers = _cache(), Answers()
    await cache.get((7, "v1"), answers.compute)
    await cache.get((30, "v1"), answers.compute)

    await cache.get((7, "v2"), answers.compute)

    assert set(cache.entries) == {(7, "v2")}


async def test_a_failed_refresh_leaves_the_error_to_the_next_caller(now: list[float]) -> None:
    cache, answers = _cache(), Answers()
    await cache.get((7, "v1"), answers.compute)
    answers.error = DatabaseUnavailable(OSError())
    now[0] = FRESH_SECONDS + 1

    assert (await cache.get((7, "v1"), answers.compute)).value == 1
    await _background_done()
    with pytest.raises(DatabaseUnavailable):
        await cache.get((7, "v1"), answers.compute)


async def test_stop_cancels_a_refresh_under_way(now: list[float]) -> None:
    cache, answers = _cache(), Answers()
    await cache.get((7, "v1"), answers.compute)
    answers.release.clear()
    now[0] = FRESH_SECONDS + 1
    await cache.get((7, "v1"), answers.compute)
    await _background_done()

    await cache.stop()

    assert answers.calls == 2
    assert cache.entries[(7, "v1")].value == 1
