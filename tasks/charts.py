"""Charts for the bulletin: inline SVG for the web/print bulletin, PNG for e-mail.

Mail clients drop inline SVG and ``data:`` URIs, so the e-mail carries the same chart rendered to
PNG with matplotlib (Agg, no display). The SVG is written by hand so the bulletin stays a single
self-contained file with no script: every chart has ``role="img"``, a ``<title>``/``<desc>`` pair
named by ``aria-labelledby``, and the template prints the same numbers as a data table.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from html import escape

Formatter = Callable[[float], str]

INK = "#1f2933"
MUTED = "#52606d"
GRID = "#d9dee3"
BAR = "#7b93ab"
HIGHLIGHT = "#c0392b"
SERIES_COLOURS = ("#c0392b", "#1f4e79", "#2e7d32", "#8e44ad")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"


def _plain(v: float) -> str:
    return f"{v:g}"


@dataclass
class BarChart:
    """Horizontal bars, one per label, sorted as given; ``highlight`` labels drawn in red."""

    chart_id: str
    title: str
    desc: str
    labels: list[str]
    values: list[float | None]
    highlight: set[str] = field(default_factory=set)
    unit: str = ""
    fmt: Formatter = _plain

    def svg(self, narrow: bool = False) -> str:
        return bar_chart_svg(self, NARROW_PX if narrow else WIDE_PX, narrow)

    def png(self) -> bytes:
        return bar_chart_png(self)


@dataclass
class LineChart:
    """One line per series over ``x`` (years); ``None`` leaves a gap (no national PDB that year)."""

    chart_id: str
    title: str
    desc: str
    x: list[int]
    series: dict[str, list[float | None]]
    unit: str = ""
    fmt: Formatter = _plain
    x_labels: list[str] | None = None

    def svg(self, narrow: bool = False) -> str:
        return line_chart_svg(self, NARROW_PX if narrow else WIDE_PX, narrow)

    def png(self) -> bytes:
        return line_chart_png(self)


def nice_max(v: float) -> float:
    """A round axis maximum at or above ``v`` (1, 2, 2.5, 5 × 10^k)."""
    if v <= 0 or not math.isfinite(v):
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= v:
            return m * exp
    return 10 * exp


def _ticks(vmax: float, n: int = 5) -> list[float]:
    """Round tick values from 0 to just above ``vmax``, about ``n`` steps of 1, 2 or 5 × 10^k."""
    if vmax <= 0 or not math.isfinite(vmax):
        return [0.0, 1.0]
    raw = vmax / n
    exp = 10 ** math.floor(math.log10(raw))
    step = next(m * exp for m in (1, 2, 5, 10) if m * exp >= raw)
    k = math.ceil(vmax / step - 1e-9)
    return [step * i for i in range(k + 1)]


# Text is set in fixed pixel sizes and every SVG is drawn at its own pixel size (width/height equal
# the viewBox), so a label is 13 px in every chart however many bars it has. Each chart comes in a
# wide layout (desktop and print) and a narrow one (phones, labels above the bars); CSS shows one.
LABEL_PX = 13
SMALL_PX = 11
CHAR_PX = 8.2  # advance of an ordinary 13 px lower-case character in DejaVu Sans (the widest usual default)
WIDE_PX = 640
NARROW_PX = 340


def _open_svg(c_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    tid, did = f"{c_id}-title", f"{c_id}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{tid} {did}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" font-family="{escape(FONT)}" font-size="{LABEL_PX}">',
        f'<title id="{tid}">{escape(title)}</title>',
        f'<desc id="{did}">{escape(desc)}</desc>',
    ]


_NARROW_CHARS = set("iljtfr.,;:'!|()[] ")
_WIDE_CHARS = set("mwMW")


def _text_px(text: str, px: float = LABEL_PX) -> float:
    """Generous width estimate of ``text`` in a system sans-serif (no font metrics without a browser)."""
    units = sum(
        0.5 if ch in _NARROW_CHARS else 1.55 if ch in _WIDE_CHARS else 1.2 if ch.isupper() else 1.0
        for ch in text
    )
    return units * CHAR_PX * px / LABEL_PX


def bar_chart_svg(c: BarChart, width: int = WIDE_PX, narrow: bool = False) -> str:
    """Horizontal bars; ``narrow`` puts each label on its own line above its bar (phones)."""
    present = [v for v in c.values if v is not None]
    ticks = _ticks(max(present) if present else 1.0)
    vmax = ticks[-1]
    value_w = max((_text_px(c.fmt(v), SMALL_PX) for v in present), default=20) + 10
    if narrow:
        label_w, row_h, bar_y, bar_h, text_y = 0.0, 34, 18, 11, 13
    else:
        longest = max((_text_px(lab) for lab in c.labels), default=60)
        label_w = min(max(60.0, longest + 12), width * 0.45)
        row_h, bar_y, bar_h, text_y = 20, 4, 12, 14
    top, bottom, pad = 6, 24, 6
    x0 = label_w + (0 if narrow else pad)
    plot_w = width - x0 - value_w - 2
    height = top + row_h * len(c.labels) + bottom
    c_id = c.chart_id + ("-hp" if narrow else "")
    out = _open_svg(c_id, c.title, c.desc, width, height)
    for tk in ticks:
        x = x0 + plot_w * tk / vmax
        anchor = "start" if tk == 0 and narrow else "middle"
        out.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}" stroke="{GRID}" '
            f'stroke-width="1"/><text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" '
            f'fill="{MUTED}" font-size="{SMALL_PX}">{escape(c.fmt(tk))}</text>'
        )
    for i, (lab, v) in enumerate(zip(c.labels, c.values, strict=True)):
        y = top + i * row_h
        hl = lab in c.highlight
        weight = ' font-weight="700"' if hl else ""
        if narrow:
            out.append(f'<text x="0" y="{y + text_y}" fill="{INK}"{weight}>{escape(lab)}</text>')
        else:
            out.append(
                f'<text x="{label_w - 6:.1f}" y="{y + text_y}" text-anchor="end" fill="{INK}"{weight}>'
                f"{escape(lab)}</text>"
            )
        vy = y + bar_y + bar_h - 2
        if v is None:
            out.append(f'<text x="{x0 + 4:.1f}" y="{vy}" fill="{MUTED}" font-size="{SMALL_PX}">-</text>')
            continue
        w = max(plot_w * max(v, 0.0) / vmax, 0.5)
        colour = HIGHLIGHT if hl else BAR
        out.append(
            f'<rect x="{x0:.1f}" y="{y + bar_y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{x0 + w + 4:.1f}" y="{vy}" fill="{INK}" font-size="{SMALL_PX}"{weight}>'
            f"{escape(c.fmt(v))}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def line_chart_svg(c: LineChart, width: int = WIDE_PX, narrow: bool = False) -> str:
    height = 240 if narrow else 300
    left, right, top, bottom = 48, 34, 18, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    present = [v for vals in c.series.values() for v in vals if v is not None]
    ticks = _ticks(max(present) if present else 1.0)
    vmax = ticks[-1]
    n = len(c.x)
    labels = c.x_labels or [str(x) for x in c.x]

    def px(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def py(v: float) -> float:
        return top + plot_h * (1 - v / vmax)

    out = _open_svg(c.chart_id + ("-hp" if narrow else ""), c.title, c.desc, width, height)
    for tk in ticks:
        out.append(
            f'<line x1="{left}" y1="{py(tk):.1f}" x2="{width - right}" y2="{py(tk):.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{py(tk) + 4:.1f}" text-anchor="end" fill="{MUTED}" font-size="{SMALL_PX}">'
            f"{escape(c.fmt(tk))}</text>"
        )
    for i, lab in enumerate(labels):
        out.append(
            f'<text x="{px(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="{MUTED}" '
            f'font-size="{SMALL_PX}">{escape(lab)}</text>'
        )
    legend_x = float(left)
    for k, (name, vals) in enumerate(c.series.items()):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(vals):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{px(i):.1f},{py(v):.1f}")
        if segment:
            segments.append(segment)
        for seg in segments:
            out.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        for i, v in enumerate(vals):
            if v is not None:
                out.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3.5" fill="{colour}"/>')
        last = max((i for i, v in enumerate(vals) if v is not None), default=None)
        if last is not None:
            v = vals[last]
            out.append(
                f'<text x="{px(last):.1f}" y="{py(v) - 8:.1f}" text-anchor="middle" fill="{colour}" '
                f'font-size="{SMALL_PX}" font-weight="700">{escape(c.fmt(v))}</text>'
            )
        ly = height - 14
        out.append(
            f'<rect x="{legend_x:.1f}" y="{ly - 9}" width="14" height="4" fill="{colour}"/>'
            f'<text x="{legend_x + 20:.1f}" y="{ly - 3}" fill="{INK}">{escape(name)}</text>'
        )
        legend_x += 20 + _text_px(name) + 24
    out.append("</svg>")
    return "\n".join(out)


# --- PNG for e-mail (matplotlib, imported only when the e-mail is built) ----------------------------
# The object API (Figure + the Agg canvas) instead of pyplot: no backend selection, no figure manager
# and no global figure registry to close, and pyplot's own import (~0.4 s) is skipped.
_RC = {"font.size": 9, "svg.hashsalt": "produktivitas"}


def _rc():  # noqa: ANN202
    """Our rcParams while a chart is built and saved (artists read them when created); restored after,
    so other matplotlib users in the process are not affected."""
    import matplotlib

    return matplotlib.rc_context(_RC)


def _figure(width_in: float, height_in: float):  # noqa: ANN202 - matplotlib types stay local
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _png_bytes(fig) -> bytes:  # noqa: ANN001
    buf = io.BytesIO()
    # No Software/date metadata: the same data give byte-identical PNGs (stable content hash).
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def bar_chart_png(c: BarChart) -> bytes:
    return _cached_png(c, _bar_png)


def line_chart_png(c: LineChart) -> bytes:
    return _cached_png(c, _line_png)


# --- PNG cache --------------------------------------------------------------------------------------
# A chart's PNG is byte-identical for the same drawing (see _png_bytes), and drawing one costs ~0.3 s
# of text layout plus ~0.6 s to import matplotlib's figure machinery. With a cache folder set (the
# flow sets one; by default there is none), a PNG is reused when everything that reaches the pixels
# is the same: the chart's data and texts, this module's code, matplotlib's settings and the
# matplotlib/Pillow versions (the key), and every string the formatter produced for that drawing
# (the tick and value labels: recorded with the entry and checked by calling the formatter again,
# since a formatter is code the key cannot see).
_png_cache: str | None = None


def set_png_cache(folder: str | os.PathLike[str] | None) -> None:
    """Reuse PNGs from ``folder`` (a local path or fsspec URL, created when needed); ``None``: never."""
    global _png_cache
    _png_cache = os.fspath(folder) if folder is not None else None


@functools.cache
def _code_and_versions() -> str:
    import importlib.metadata

    versions = []
    for dist in ("matplotlib", "pillow"):
        try:
            versions.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist}==?")
    with open(__file__, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest() + ";" + ";".join(versions)


def _png_key(c: BarChart | LineChart) -> str:
    import matplotlib

    data = {
        f.name: sorted(getattr(c, f.name)) if isinstance(getattr(c, f.name), set) else getattr(c, f.name)
        for f in fields(c)
        if f.name != "fmt"
    }
    # dict.items: the raw values, without resolving the backend (which would import pyplot)
    rc = sorted((k, repr(v)) for k, v in dict.items(matplotlib.rcParams) if not k.startswith("backend"))
    text = repr((type(c).__name__, sorted(data.items()), _RC, rc, _code_and_versions()))
    return hashlib.sha256(text.encode()).hexdigest()


def _cached_png(c: BarChart | LineChart, draw: Callable[[BarChart | LineChart, Formatter], bytes]) -> bytes:
    if _png_cache is None:
        with _rc():
            return draw(c, c.fmt)
    from tasks.storage import Storage

    store = Storage(_png_cache)
    rel = f"{_png_key(c)}.json"
    if store.exists(rel):
        try:
            entry = json.loads(store.read_bytes(rel))
            if all(c.fmt(v) == s for v, s in entry["fmt"]):
                return base64.b64decode(entry["png"])
        except (ValueError, KeyError, TypeError):
            pass  # an unreadable entry is drawn again and replaced
    seen: dict[float, str] = {}

    def recording(v: float) -> str:
        s = c.fmt(v)
        seen[float(v)] = s
        return s

    with _rc():
        png = draw(c, recording)
    entry = {"fmt": sorted(seen.items()), "png": base64.b64encode(png).decode("ascii")}
    store.write_text(rel, json.dumps(entry))
    return png


def _bar_png(c: BarChart, fmt: Formatter) -> bytes:
    fig, ax = _figure(6.0, max(2.0, 0.22 * len(c.labels) + 0.8))
    vals = [v if v is not None else 0.0 for v in c.values]
    ys = list(range(len(c.labels)))[::-1]
    colours = [HIGHLIGHT if lab in c.highlight else BAR for lab in c.labels]
    ax.barh(ys, vals, color=colours, height=0.7)
    ax.set_yticks(ys, labels=c.labels)
    for y, v in zip(ys, c.values, strict=True):
        ax.text(
            (v or 0) + max(vals or [1]) * 0.01, y, fmt(v) if v is not None else "-", va="center", fontsize=7
        )
    ax.xaxis.set_major_formatter(lambda v, _pos: fmt(v))
    ax.set_xlim(0, nice_max(max(vals or [1])) * 1.08)
    ax.grid(axis="x", color=GRID)
    ax.set_axisbelow(True)
    # fixed margins instead of tight_layout: one layout pass instead of three (Agg text layout is the cost)
    fig.subplots_adjust(left=0.3, right=0.97, top=0.98, bottom=0.6 / fig.get_figheight())
    return _png_bytes(fig)


def _line_png(c: LineChart, fmt: Formatter) -> bytes:
    fig, ax = _figure(6.0, 3.0)
    labels = c.x_labels or [str(x) for x in c.x]
    xs = list(range(len(c.x)))
    for k, (name, vals) in enumerate(c.series.items()):
        ys = [v if v is not None else float("nan") for v in vals]
        ax.plot(xs, ys, marker="o", color=SERIES_COLOURS[k % len(SERIES_COLOURS)], label=name, linewidth=2)
    ax.set_xticks(xs, labels=labels)
    ax.yaxis.set_major_formatter(lambda v, _pos: fmt(v))
    present = [v for vals in c.series.values() for v in vals if v is not None]
    ax.set_ylim(0, nice_max(max(present or [1])))
    ax.grid(axis="y", color=GRID)
    ax.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, -0.3), ncol=len(c.series))
    fig.subplots_adjust(left=0.1, right=0.97, top=0.95, bottom=0.25)
    return _png_bytes(fig)


def table_rows(
    labels: Sequence[str], values: Sequence[float | None], fmt: Formatter
) -> list[tuple[str, str]]:
    """The chart's data as (label, printed value) rows for the table alternative."""
    return [(lab, fmt(v) if v is not None else "-") for lab, v in zip(labels, values, strict=True)]
