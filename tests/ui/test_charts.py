"""The page's SVG charts: where the lines, the band and the bars fall, and escaped text."""

import re
from datetime import date, timedelta

from app.ui.charts import HEIGHT, BandPoint, bar_chart, compact, forecast_chart

DAY = date(2026, 11, 1)


def _points(svg: str, element: str) -> list[tuple[float, float]]:
    found = re.search(rf'<{element} class="[a-z]+" points="([^"]+)"', svg)
    assert found is not None, f"no {element}"
    return [(float(x), float(y)) for x, y in (p.split(",") for p in found.group(1).split())]


def test_actuals_then_forecast_inside_its_band_on_one_axis() -> None:
    actual = [(DAY + timedelta(days=i), 100.0 + i) for i in range(14)]
    forecast = [BandPoint(DAY + timedelta(days=14 + i), 120.0, 90.0, 150.0) for i in range(7)]

    svg = forecast_chart(actual, forecast)

    line = _points(svg, "polyline")  # the forecast's line comes first, under the actuals
    band = _points(svg, "polygon")
    assert len(line) == 7
    assert len(band) == 14
    assert all(y == line[0][1] for _, y in line)
    assert band[0][1] < line[0][1] < band[-1][1]  # upper above the forecast above lower
    actual_line = _points(svg[svg.index('class="actual"') - 10 :], "polyline")
    assert len(actual_line) == 14
    assert actual_line[-1][0] < line[0][0]
    assert actual_line[0][1] > actual_line[-1][1]  # rising sales go up the picture


def test_bars_are_proportional_to_the_counts() -> None:
    bars = [(DAY + timedelta(days=i), count) for i, count in enumerate([0, 2, 4, 8])]

    svg = bar_chart(bars, "flagged transactions")

    heights = [float(h) for h in re.findall(r'<rect class="bar"[^>]* height="([\d.]+)"', svg)]
    assert len(heights) == 4
    assert heights[0] == 0
    assert heights[2] == 2 * heights[1]
    assert heights[3] == 2 * heights[2]
    assert max(heights) <= HEIGHT
    assert "Flagged transactions per day, 01 Nov to 04 Nov 2026" in svg


def test_text_given_to_a_chart_is_escaped() -> None:
    svg = bar_chart([(DAY, 1)], "<b>odd</b> things")

    assert "<b>" not in svg
    assert "&lt;b&gt;odd&lt;/b&gt; things" in svg


def test_empty_charts_say_so() -> None:
    assert "No sales to show" in forecast_chart([], [])
    assert "No flags to show" in bar_chart([], "flags")


def test_axis_labels_are_compact() -> None:
    assert [compact(v) for v in (0, 950, 45_000, 1_250_000)] == ["0", "950", "45k", "1.25M"]
