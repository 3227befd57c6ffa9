"""Server-side SVG charts for the page: plain functions from numbers to an SVG string.

No script draws anything in the browser, so the page reads the same without JavaScript, and
every chart sits beside a table of its numbers. Text inside the SVG is escaped here; the
numbers are formatted by this module, never taken from the caller as markup."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

WIDTH, HEIGHT = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 12, 12, 30
_Y_TICKS = 4


@dataclass(frozen=True)
class BandPoint:
    """One forecast day: the point forecast and its interval."""

    day: date
    value: float
    lower: float
    upper: float


def compact(value: float) -> str:
    """An axis label: 1.2M, 45k, 950."""
    for cut, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= cut:
            return f"{value / cut:.3g}{suffix}"
    return f"{value:.3g}"


def _ticks(top: float) -> list[float]:
    """Evenly spaced y-axis values from 0 to a round number at or above `top`."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / _Y_TICKS
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    count = int(-(-top // step))
    return [step * i for i in range(count + 1)]


class _Frame:
    """Maps day indices and values to the plot area's pixels."""

    def __init__(self, days: int, top: float) -> None:
        self.days = max(days, 2)
        self.ticks = _ticks(top)
        self.top = self.ticks[-1]

    def x(self, index: float) -> float:
        return round(_LEFT + index * (WIDTH - _LEFT - _RIGHT) / (self.days - 1), 1)

    def y(self, value: float) -> float:
        return round(HEIGHT - _BOTTOM - value * (HEIGHT - _TOP - _BOTTOM) / self.top, 1)

    def grid(self) -> list[str]:
        return [
            f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{self.y(t)}" '
            f'y2="{self.y(t)}"/><text class="axis" x="{_LEFT - 6}" y="{self.y(t) + 4}" '
            f'text-anchor="end">{compact(t)}</text>'
            for t in self.ticks
        ]

    def day_labels(self, days: Sequence[date], every: int) -> list[str]:
        return [
            f'<text class="axis" x="{self.x(i)}" y="{HEIGHT - 10}" text-anchor="middle">'
            f"{day:%d %b}</text>"
            for i, day in enumerate(days)
            if i % every == 0
        ]


def _svg(title: str, body: list[str]) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in points)


def forecast_chart(actual: Sequence[tuple[date, float]], forecast: Sequence[BandPoint]) -> str:
    """Actual daily sales as a solid line, then the forecast as a dashed line inside its
    shaded interval band, on one time axis (a gap between the two is left blank)."""
    if not actual and not forecast:
        return _svg("No sales to show", [])
    first = actual[0][0] if actual else forecast[0].day
    last = forecast[-1].day if forecast else actual[-1][0]
    days = [date.fromordinal(first.toordinal() + i) for i in range((last - first).days + 1)]
    top = max([v for _, v in actual] + [p.upper for p in forecast] + [p.value for p in forecast])
    frame = _Frame(len(days), top)

    def at(day: date) -> float:
        return frame.x((day - first).days)

    body = frame.grid() + frame.day_labels(days, every=7)
    if forecast:
        band = [(at(p.day), frame.y(p.upper)) for p in forecast] + [
            (at(p.day), frame.y(p.lower)) for p in reversed(forecast)
        ]
        body.append(f'<polygon class="band" points="{_path(band)}"/>')
        line = [(at(p.day), frame.y(p.value)) for p in forecast]
        body.append(f'<polyline class="forecast" points="{_path(line)}"/>')
    if actual:
        line = [(at(day), frame.y(value)) for day, value in actual]
        body.append(f'<polyline class="actual" points="{_path(line)}"/>')
    title = (
        f"Daily sales from {first:%d %b %Y} to {last:%d %b %Y}: actual (solid line), "
        "forecast (dashed line) and its interval (shaded band)"
    )
    return _svg(title, body)


def bar_chart(bars: Sequence[tuple[date, int]], what: str) -> str:
    """One bar per day, its count written above it when the bars are wide enough."""
    if not bars:
        return _svg(f"No {what} to show", [])
    frame = _Frame(len(bars) + 1, max(_Y_TICKS, *(count for _, count in bars)))  # whole ticks
    slot = frame.x(1) - frame.x(0)
    width = round(slot * 0.7, 1)
    body = frame.grid()
    for i, (day, count) in enumerate(bars):
        left = round(frame.x(i) + (slot - width) / 2, 1)
        y = frame.y(count)
        body.append(
            f'<rect class="bar" x="{left}" y="{y}" width="{width}" '
            f'height="{round(HEIGHT - _BOTTOM - y, 1)}"><title>{day:%d %b}: {count}</title></rect>'
        )
        if slot >= 24:
            body.append(
                f'<text class="value" x="{round(left + width / 2, 1)}" y="{y - 4}" '
                f'text-anchor="middle">{count}</text>'
            )
    every = max(1, round(len(bars) / 10))
    body += [
        f'<text class="axis" x="{round(frame.x(i) + slot / 2, 1)}" y="{HEIGHT - 10}" '
        f'text-anchor="middle">{day:%d %b}</text>'
        for i, (day, _) in enumerate(bars)
        if i % every == 0
    ]
    title = f"{what.capitalize()} per day, {bars[0][0]:%d %b} to {bars[-1][0]:%d %b %Y}"
    return _svg(title, body)
