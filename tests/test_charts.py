"""Inline SVG charts (accessible, escaped) and their PNG twins for e-mail."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tasks.charts import HIGHLIGHT, BarChart, LineChart, _ticks

NS = "{http://www.w3.org/2000/svg}"


def _bar(**kw):
    args = dict(
        chart_id="g1",
        title="Produktivitas <provinsi>",
        desc="DKI Jakarta: 421,16",
        labels=["DKI Jakarta", "Kalimantan Timur", "<script>x</script>", "Papua"],
        values=[421.16, 288.81, 50.0, None],
        highlight={"Kalimantan Timur"},
    )
    args.update(kw)
    return BarChart(**args)


def test_bar_svg_is_wellformed_accessible_and_escaped():
    svg = _bar().svg()
    root = ET.fromstring(svg)  # raises if a label broke the XML
    assert root.get("role") == "img"
    ids = root.get("aria-labelledby").split()
    assert root.find(f"{NS}title").get("id") == ids[0]
    assert root.find(f"{NS}desc").get("id") == ids[1]
    assert root.find(f"{NS}title").text == "Produktivitas <provinsi>"
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    # drawn at its own pixel size: width/height equal the viewBox (CSS only ever scales it down)
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    rects = root.findall(f"{NS}rect")
    assert len(rects) == 3  # the missing value draws no bar
    assert [r.get("fill") for r in rects].count(HIGHLIGHT) == 1


def test_line_svg_leaves_gap_for_missing_years():
    c = LineChart(
        chart_id="g2", title="t", desc="d", x=[2022, 2023, 2024],
        series={"Kalimantan Timur": [290.0, 291.0, 288.8], "Indonesia": [86.5, 87.9, None]},
    )  # fmt: skip
    root = ET.fromstring(c.svg())
    lines = root.findall(f"{NS}polyline")
    assert len(lines) == 2
    assert len(lines[1].get("points").split()) == 2  # Indonesia stops at 2023
    assert len(root.findall(f"{NS}circle")) == 5


def test_ticks_are_round():
    assert _ticks(421.16) == [0, 100, 200, 300, 400, 500]
    assert _ticks(1_976_447)[-1] >= 1_976_447


def test_png_is_a_png_and_stable():
    c = _bar()
    a, b = c.png(), c.png()
    assert a[:8] == b"\x89PNG\r\n\x1a\n"
    assert a == b  # same data, same bytes: the delivery ledger's content hash stays stable


def _font_sizes(svg: str) -> set[str]:
    root = ET.fromstring(svg)
    return {root.get("font-size")} | {
        t.get("font-size") for t in root.iter(f"{NS}text") if t.get("font-size")
    }


def test_text_sizes_do_not_depend_on_bar_count_or_label_length():
    few = _bar(labels=["A", "B"], values=[1.0, 2.0])
    many = _bar(labels=[f"Provinsi nomor {i}" for i in range(38)], values=[float(i) for i in range(38)])
    line = LineChart(chart_id="l", title="t", desc="d", x=[2022, 2023], series={"a": [1.0, 2.0]})
    sizes = [_font_sizes(c.svg(narrow=n)) for c in (few, many, line) for n in (False, True)]
    assert all(s == sizes[0] == {"13", "11"} for s in sizes)
    widths = {ET.fromstring(c.svg()).get("width") for c in (few, many, line)}
    assert widths == {"640"}  # one drawing width: equal scale on any page
    narrow = {ET.fromstring(c.svg(narrow=True)).get("width") for c in (few, many, line)}
    assert narrow == {"340"}  # fits a 375 px phone at 1:1


def test_long_labels_get_room_and_narrow_ids_differ():
    c = _bar(labels=["Akomodasi dan makan minum", "Kabupaten Penajam Paser Utara"], values=[1.0, 2.0])
    root = ET.fromstring(c.svg())
    label = next(t for t in root.iter(f"{NS}text") if t.text == "Akomodasi dan makan minum")
    # right-aligned at the label column's edge, with room for ~8.2 px per character to its left
    assert float(label.get("x")) >= 25 * 8.2 * 0.95
    assert ET.fromstring(c.svg(narrow=True)).find(f"{NS}title").get("id") == "g1-hp-title"


def test_png_leaves_no_global_matplotlib_state():
    import sys

    import matplotlib

    before = matplotlib.rcParams["font.size"]
    png = _bar().png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.rcParams["font.size"] == before  # our 9 pt applied only while drawing
    if "matplotlib.pyplot" not in sys.modules:  # another test may have imported it; ours must not
        LineChart(chart_id="l", title="t", desc="d", x=[2022, 2023], series={"a": [1.0, 2.0]}).png()
        assert "matplotlib.pyplot" not in sys.modules


def test_png_cache_reuses_only_identical_drawings(tmp_path, monkeypatch):
    from tasks import charts

    drawn: list[str] = []
    real = charts._bar_png
    monkeypatch.setattr(charts, "_bar_png", lambda c, fmt: drawn.append(c.chart_id) or real(c, fmt))
    monkeypatch.setattr(charts, "_png_cache", None)  # a monthly flow earlier in the session may have set one
    plain = _bar().png()  # no cache folder set: drawn, nothing stored
    assert drawn == ["g1"]
    monkeypatch.setattr(charts, "_png_cache", None)
    charts.set_png_cache(tmp_path / "charts")

    first = _bar().png()
    assert drawn == ["g1", "g1"] and first == plain
    assert _bar().png() == first and drawn == ["g1", "g1"]  # same drawing: reused

    assert _bar(values=[421.16, 288.82, 50.0, None]).png() != first  # one value changed: drawn
    assert _bar(highlight={"Papua"}).png() != first  # highlight changed: drawn
    assert len(drawn) == 4

    # Same data, a formatter giving other strings (Indonesian decimal comma): drawn again, not reused
    comma = _bar(fmt=lambda v: f"{v:g}".replace(".", ",")).png()
    assert len(drawn) == 5 and comma != first
    assert _bar(fmt=lambda v: f"{v:g}".replace(".", ",")).png() == comma and len(drawn) == 5
    # one entry per key: the comma strings replaced it, so the original formatter draws again
    assert _bar().png() == first and len(drawn) == 6

    charts.set_png_cache(None)
    assert _bar().png() == first and len(drawn) == 7
