"""The forecast panel's groups of series and their forecast origins (bench/forecast_panel.py).

A `Case` is one series with the origins (first forecast days) it is scored at and the length of
the history before each. Groups: the demo data; The Complete Journey's total and every
department; each public data set's total and categories (bench/datasets/README.md); stress
variants of real totals (bench/datasets/stress.py). Origins: ORIGINS of them, SPACING days
apart, the last one HORIZON days before the series' end, so that every forecast is scored on
HORIZON known days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd

from bench.datasets import ddop_shops, online_retail, stress
from bench.datasets.complete_journey import Shop
from bench.datasets.public import MissingData, daily_series

HORIZON = 28
ORIGINS = 4
SPACING = 21
SHORT = 90  # the service's default training window
LONG = 365


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    series: pd.Series  # dense daily sales, the data's own calendar
    origins: tuple[pd.Timestamp, ...]
    history_days: int


def origins(series: pd.Series, history_days: int, count: int) -> tuple[pd.Timestamp, ...]:
    """Up to `count` origins, SPACING days apart, the last HORIZON days before the end, each
    with `history_days` days before it."""
    index = pd.DatetimeIndex(series.index)
    out = []
    for k in range(count):
        position = len(index) - HORIZON - SPACING * k
        if position - history_days < 0:
            break
        out.append(index[position])
    return tuple(sorted(out))


def _cases(
    group: str, series: dict[str, pd.Series], histories: tuple[int, ...], count: int
) -> Iterator[Case]:
    for history_days in histories:
        label = group if history_days == SHORT else f"{group}, {history_days}-day histories"
        for name, values in series.items():
            found = origins(values, history_days, count)
            if found:
                yield Case(label, name, values, found, history_days)


def demo_total(seed: int, days: int) -> pd.Series:
    from bench.forecast import demo_series

    series = demo_series(seed, days)
    series.index = pd.DatetimeIndex(series.index)
    return series


def journey() -> dict[str, pd.Series]:
    """The Complete Journey's total and departments in its own calendar (2017), the last,
    partial day (the US evening of New Year's Eve) dropped."""
    from bench.datasets.complete_journey import load

    shop = load()
    dates = shop.transactions["transactionDate"]
    shift = dates.max().normalize() - pd.Timestamp("2018-01-01", tz="UTC")
    unshifted = Shop(shop.transactions.assign(transactionDate=dates - shift), shop.products)
    return {name: values.iloc[:-1] for name, values in daily_series(unshifted).items()}


def _loaded(load: Callable[[], Shop]) -> dict[str, pd.Series]:
    return daily_series(load())


def public_sets() -> dict[str, Callable[[], dict[str, pd.Series]]]:
    return {
        "Online Retail": lambda: _loaded(online_retail.load),
        "Bakery": lambda: _loaded(ddop_shops.load_bakery),
        "YAZ restaurant": lambda: _loaded(ddop_shops.load_yaz),
    }


STRESS_BASES = ("Bakery",)  # "YAZ restaurant" too with --stress-bases


def stress_cases(base: str, total: pd.Series, count: int) -> Iterator[Case]:
    """Each stress variant of a real total, scored with SHORT-day histories: the trends over
    the whole series; a level shift in the middle of each origin's history; the new-year ramp
    from the last 1 January that leaves room for its origins, which then fall in the ramp."""
    for label, per_quarter in (("trend +30 %/quarter", 0.3), ("trend -30 %/quarter", -0.3)):
        series = stress.trend(total, per_quarter)
        yield Case(f"Stress: {label}", base, series, origins(series, SHORT, count), SHORT)
    for label, change in (("level shift -40 %", -0.4), ("level shift +40 %", 0.4)):
        for origin in origins(total, SHORT, count):
            at = origin - pd.Timedelta(days=SHORT // 2)
            series = stress.level_shift(total, change, at)
            name = f"{base} (shift {at.date()})"
            yield Case(f"Stress: {label}", name, series, (origin,), SHORT)
    index = pd.DatetimeIndex(total.index)
    last_origin = index[-HORIZON]
    for year in range(index[-1].year, index[0].year, -1):
        new_year = pd.Timestamp(year=year, month=1, day=1)
        starts = tuple(new_year + pd.Timedelta(days=d) for d in (14, 28, 42, 56)[:count])
        if new_year - pd.Timedelta(days=SHORT) >= index[0] and starts[-1] <= last_origin:
            series = stress.new_year_ramp(total, year)
            yield Case("Stress: new-year ramp", f"{base} ({year})", series, starts, SHORT)
            break


def build(
    seeds: list[int],
    count: int,
    categories: int | None,
    category_origins: int,
    skipped: list[str],
    long: bool = False,
    stress_bases: tuple[str, ...] = STRESS_BASES,
) -> Iterator[Case]:
    """Every case of the panel: totals at `count` origins (and, if `long`, with LONG histories
    where the data has them), the `categories` largest categories of each data set (all if
    None, none if 0) at `category_origins` origins. A data set whose files are missing is left
    out and named in `skipped`."""
    histories = (SHORT, LONG) if long else (SHORT,)
    for seed in seeds:
        yield from _cases("Demo data", {f"seed {seed}": demo_total(seed, 500)}, histories, count)
    sets: dict[str, Callable[[], dict[str, pd.Series]]] = {"Complete Journey": journey}
    sets.update(public_sets())
    totals: dict[str, pd.Series] = {}
    for name, load in sets.items():
        try:
            series = load()
        except MissingData as error:
            skipped.append(f"{name}: {error}")
            continue
        totals[name] = series["total"]
        yield from _cases(f"{name} total", {"total": series["total"]}, histories, count)
        kept = dict(list((k, v) for k, v in series.items() if k != "total")[:categories])
        yield from _cases(f"{name} categories", kept, (SHORT,), category_origins)
    for base in stress_bases:
        if base in totals:
            yield from stress_cases(base, totals[base], count)
