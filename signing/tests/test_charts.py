"""Server-rendered SVG charts (signing/charts.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from signing import charts

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("value", "expected"), [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (450, 500), (1001, 2000)])
def test_nice_maximum(value, expected):
    assert charts.nice_maximum(value) == expected


def test_stacked_bars_are_valid_svg_with_one_rect_per_nonzero_value():
    svg = charts.stacked_bar_chart("Certificates", ["01", "02"], {"a": [1, 0], "b": [2, 3]})
    root = ET.fromstring(svg)
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 3
    heights = sorted(float(r.get("height")) for r in bars)
    assert heights[1] == pytest.approx(2 * heights[0])


def test_labels_are_escaped():
    svg = charts.horizontal_bar_chart("<script>", [("<b>", 10.0)], unit="%", maximum=100)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(svg)


def test_line_chart_breaks_at_missing_values():
    root = ET.fromstring(charts.line_chart("Latency", ["a", "b", "c", "d"], {"p50": [1, 2, None, 4]}))
    assert len(list(root.iter(f"{SVG}polyline"))) == 1
    assert len(list(root.iter(f"{SVG}circle"))) == 3
