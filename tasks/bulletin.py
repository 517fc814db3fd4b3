"""The monthly bulletin: read the stage outputs, compute the headline facts, render the HTML.

Everything a reader sees is computed here from the Parquet outputs of the BPS, submission and
indicator stages; the templates only lay it out. Input files that are missing are reported, not
fatal: a month with no submissions still gets a bulletin that says so.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from schemas.codes import (
    KALTIM_PROVINCE_CODE,
    NATIONAL_CODE,
    kabkota_display_name,
    kaltim_kabkota,
)
from tasks import formatting as F
from tasks.charts import BarChart, LineChart, table_rows
from tasks.parquet_io import file_metadata, read_frame
from tasks.process_pool import keep_workers
from tasks.storage import Storage

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "reports" / "templates"
PROVINCIAL = "processed/indicators/provincial_productivity.parquet"
KABKOTA = "processed/indicators/kabkota_productivity.parquet"
SECTORS = "processed/bps/kaltim_employment_by_sector.parquet"
COMPANY_DIR = "processed/indicators/company"
AGGREGATES_DIR = "processed/indicators/aggregates"
SUBMISSIONS_DIR = "processed/submissions"
QUARANTINE_DIR = "processed/quarantine"
RECEIPTS_DIR = "processed/receipts"
BULLETINS_DIR = "processed/bulletins"
PERIOD_DIR_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
SYNTHETIC_MARK = re.compile(r"\(\s*SINTETIS\s*\)", re.IGNORECASE)
PROD = "productivity_million_idr_per_worker"


def template_env() -> Environment:
    """Jinja2 with autoescape on for every HTML template (a company called ``<script>`` stays text)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(
            enabled_extensions=("html.j2", "html"), disabled_extensions=("txt.j2",), default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The shared stylesheet as one string, not an {% include %}: an include builds a new template
    # context on every render, a tenth of a company report's rendering when there are 10^5 of them.
    # Markup is safe here: the stylesheet is our own template, with no data in it.
    env.globals["style_css"] = Markup(env.get_template("_style.css.j2").render())  # noqa: S704
    return env


# --- inputs ------------------------------------------------------------------------------------------
@dataclass
class BulletinInputs:
    period: str
    provincial: pd.DataFrame | None = None
    kabkota: pd.DataFrame | None = None
    sectors: pd.DataFrame | None = None
    companies: pd.DataFrame | None = None
    aggregates: pd.DataFrame | None = None
    submissions: pd.DataFrame | None = None
    quarantine: pd.DataFrame | None = None  # rows.parquet: one row per quarantined data row or file
    quarantine_reasons: pd.DataFrame | None = None  # reasons.parquet: one row per reason
    submission_meta: dict[str, Any] = field(default_factory=dict)  # rows_read, files (Parquet metadata)
    diagnostics: list[str] = field(default_factory=list)


def read_partition(storage: Storage, dataset_rel: str, period: str) -> pd.DataFrame | None:
    """All Parquet files of one ``period=YYYY-MM`` partition as one frame; None when absent."""
    files = storage.walk_files(f"{dataset_rel}/period={period}", "*.parquet")
    if not files:
        return None
    frames = [read_frame(storage, f) for f in files]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def partition_periods(storage: Storage, dataset_rel: str) -> list[str]:
    return sorted(
        n.split("=", 1)[1] for n in storage.listdir(dataset_rel) if n.startswith("period=") and "." not in n
    )


def load_inputs(storage: Storage, period: str) -> BulletinInputs:
    inp = BulletinInputs(period=period)
    for attr, rel in (("provincial", PROVINCIAL), ("kabkota", KABKOTA), ("sectors", SECTORS)):
        if storage.exists(rel):
            setattr(inp, attr, read_frame(storage, rel))
        else:
            inp.diagnostics.append(f"{rel} not found; its section is left out of the bulletin")
    for attr, rel in (
        ("companies", COMPANY_DIR),
        ("aggregates", AGGREGATES_DIR),
        ("submissions", SUBMISSIONS_DIR),
    ):
        setattr(inp, attr, read_partition(storage, rel, period))
    # The quarantine partition holds two Parquet files of different grain (rows and reasons):
    # read each on its own, never concatenated.
    qdir = f"{QUARANTINE_DIR}/period={period}"
    for attr, name in (("quarantine", "rows.parquet"), ("quarantine_reasons", "reasons.parquet")):
        if storage.exists(f"{qdir}/{name}"):
            setattr(inp, attr, read_frame(storage, f"{qdir}/{name}"))
    inp.submission_meta = submission_metadata(storage, period)
    return inp


def submission_metadata(storage: Storage, period: str) -> dict[str, Any]:
    """What the submissions stage recorded in its Parquet file metadata: rows read and files received.

    Both the accepted and the quarantine files carry it; the first readable one wins.
    """
    for rel in (
        f"{QUARANTINE_DIR}/period={period}/rows.parquet",
        *storage.walk_files(f"{SUBMISSIONS_DIR}/period={period}", "*.parquet"),
    ):
        if not storage.exists(rel):
            continue
        meta = file_metadata(storage, rel)
        out: dict[str, Any] = {}
        if meta.get("rows_read", "").isdigit():
            out["rows_read"] = int(meta["rows_read"])
        try:
            files = json.loads(meta.get("files", "null"))
        except ValueError:
            files = None
        if isinstance(files, list):
            out["files"] = files
        if out:
            return out
    return {}


# --- helpers -----------------------------------------------------------------------------------------
def _col(df: pd.DataFrame, *names: str) -> str | None:
    return next((n for n in names if n in df.columns), None)


def _status_col(df: pd.DataFrame) -> str | None:
    return _col(df, "grdp_status", "status", "preliminary_status") or next(
        (c for c in df.columns if c.endswith("_status")), None
    )


def year_statuses(df: pd.DataFrame | None) -> dict[int, str]:
    """Year -> the most preliminary BPS status printed for it (marks * to *** after the year)."""
    if df is None or df.empty:
        return {}
    sc = _status_col(df)
    if sc is None:
        return {}
    out: dict[int, str] = {}
    for y, s in zip(df["year"], df[sc], strict=True):
        if F.status_mark(s) and len(F.status_mark(s)) > len(F.status_mark(out.get(int(y), ""))):
            out[int(y)] = str(s).strip().lower()
    return out


def is_synthetic(*frames: pd.DataFrame | None) -> bool:
    """Company data are synthetic when flagged so or when names carry the "(SINTETIS)" marker."""
    for df in frames:
        if df is None or df.empty:
            continue
        if "synthetic" in df.columns and df["synthetic"].fillna(False).astype(bool).any():
            return True
        if "company_name" in df.columns:
            # in Arrow over the whole column: pandas' case-insensitive contains ran Python's re per row
            names = pa.array(df["company_name"].astype("string"), pa.string())
            if pc.any(pc.match_substring_regex(names, SYNTHETIC_MARK.pattern, ignore_case=True)).as_py():
                return True
    return False


def _opt(x: Any) -> float | None:
    return None if F.is_missing(x) else float(x)


def latest_complete_year(prov: pd.DataFrame) -> int | None:
    """The latest year in which Kaltim's productivity exists (both BPS inputs present)."""
    k = prov[(prov["region_code"] == KALTIM_PROVINCE_CODE) & prov[PROD].notna()]
    return int(k["year"].max()) if not k.empty else None


# --- the context -------------------------------------------------------------------------------------
@dataclass
class Counter:
    n: int = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def build_context(
    inp: BulletinInputs, lang: str, run_date: date, seq: int, variant: str = "web"
) -> dict[str, Any]:
    """Everything the bulletin templates print, computed from the inputs (numbers already formatted)."""
    lang = F.check_lang(lang)

    def t(key: str, **kw: Any) -> str:
        return F.t(key, lang, **kw)

    def prod_fmt(v: float) -> str:
        return F.number(v, 0 if v >= 100 and float(v).is_integer() else 2, lang) if v else "0"

    period_label = F.period_label(inp.period, lang)
    statuses = year_statuses(inp.provincial)

    def ylab(y: int) -> str:
        return F.year_label(y, statuses.get(int(y)))

    figs, tabs = Counter(), Counter()
    ctx: dict[str, Any] = {
        "lang": lang,
        "t": t,
        "variant": variant,
        "period": inp.period,
        "period_label": period_label,
        "number_line": t("number", seq=seq, mm=f"{run_date.month:02d}", yyyy=run_date.year),
        "release_date": F.long_date(run_date, lang),
        "title": t("title", period=period_label),
        "highlights": [],
        "sections": [],
        "synthetic": is_synthetic(inp.companies, inp.submissions),
        "status_legend": bool(statuses),
        "charts": {},
        "diagnostics": list(inp.diagnostics),
    }
    hl: list[str] = ctx["highlights"]
    ky: int | None = None
    sy: int | None = None
    sections: list[dict[str, Any]] = ctx["sections"]
    prov = inp.provincial
    year = latest_complete_year(prov) if prov is not None and not prov.empty else None

    # 1. provinces
    if prov is not None and year is not None:
        py = prov[(prov["year"] == year) & (prov["region_code"] != NATIONAL_CODE) & prov[PROD].notna()]
        py = py.sort_values(PROD, ascending=False)
        k = prov[(prov["region_code"] == KALTIM_PROVINCE_CODE)].set_index("year").sort_index()
        kv = k.loc[year]
        prev_years = [y for y in k.index if y < year and not F.is_missing(k.loc[y, PROD])]
        growth = _opt(kv.get("productivity_growth_pct"))
        value = F.rupiah_million(kv[PROD], 2, lang)
        if growth is not None and prev_years:
            hl.append(
                t(
                    "hl_productivity",
                    year=ylab(year),
                    value=value,
                    change=F.change_percent(growth, 2, lang),
                    prev=ylab(prev_years[-1]),
                )
            )
        else:
            hl.append(t("hl_productivity_nochange", year=ylab(year), value=value))
        rank = kv.get("rank")
        if not F.is_missing(rank):
            hl.append(t("hl_rank", rank=int(rank), n=len(py), year=ylab(year)))
        nat = prov[(prov["region_code"] == NATIONAL_CODE) & prov[PROD].notna()]
        if not nat.empty:
            ny = int(nat["year"].max())
            nv = float(nat.set_index("year").loc[ny, PROD])
            kny = _opt(k.loc[ny, PROD]) if ny in k.index else None
            ratio = F.number(kny / nv, 1, lang) if kny else F.EMPTY_CELL
            hl.append(t("hl_national", year=ylab(ny), value=F.rupiah_million(nv, 2, lang), ratio=ratio))
            if ny < year:
                hl.append(t("hl_national_missing", year=ylab(year)))
        emp_prev = [y for y in k.index if y < year]
        if emp_prev:
            e1, e0 = float(k.loc[year, "employed_persons"]), float(k.loc[emp_prev[-1], "employed_persons"])
            diff = e1 - e0
            verb = t("more") if diff > 0 else t("less")
            hl.append(
                t(
                    "hl_employment",
                    year=year,
                    value=F.persons(e1, lang),
                    change=f"{verb} {F.persons(abs(diff), lang)}",
                    prev=emp_prev[-1],
                )
            )
        labels = [str(n) for n in py["region_name"]]
        kaltim_name = str(kv["region_name"])
        chart = BarChart(
            chart_id="gambar-provinsi",
            title=f"{t('productivity')} {t('province').lower()} {ylab(year)} ({t('unit_million_per_worker')})",
            desc=", ".join(f"{lab}: {F.number(v, 2, lang)}" for lab, v in zip(labels, py[PROD], strict=True)),
            labels=labels,
            values=[float(v) for v in py[PROD]],
            highlight={kaltim_name},
            unit=t("unit_million_per_worker"),
            fmt=lambda v: F.number(v, 2 if v % 1 else 0, lang),
        )
        rows = [
            {
                "code": r.region_code,
                "highlight": r.region_code == KALTIM_PROVINCE_CODE,
                "cells": [
                    str(r.region_name),
                    F.number(getattr(r, PROD), 2, lang),
                    F.signed(r.productivity_growth_pct, 2, lang),
                    F.number(r.rank, 0, lang),
                ],
            }
            for r in py.itertuples()
        ]
        natrow = prov[(prov["year"] == year) & (prov["region_code"] == NATIONAL_CODE)]
        for r in natrow.itertuples():
            rows.append(
                {
                    "code": NATIONAL_CODE,
                    "highlight": False,
                    "cells": [
                        str(r.region_name),
                        F.number(getattr(r, PROD), 2, lang),
                        F.signed(r.productivity_growth_pct, 2, lang),
                        F.EMPTY_CELL,
                    ],
                }
            )
        sections.append(
            {
                "id": "provinsi",
                "title": t("sec_provinces"),
                "figure": _figure(figs.next(), chart, t("source_bps"), t, variant),
                "table": {
                    "id": "tabel-provinsi",
                    "n": tabs.next(),
                    "title": f"{t('productivity')} {t('province').lower()}, {ylab(year)} ({t('unit_million_per_worker')})",
                    "head": [t("province"), t("productivity"), f"{t('growth')} (%)", t("rank")],
                    "rows": rows,
                    "source": t("source_bps"),
                    "numeric": [1, 2, 3],
                },
            }
        )
        # 2. Kaltim's trend against Indonesia (Indonesia only where national PDB exists)
        years = sorted(int(y) for y in prov.loc[prov["region_code"] == KALTIM_PROVINCE_CODE, "year"].unique())
        nat_all = prov[prov["region_code"] == NATIONAL_CODE].set_index("year")
        kal_vals = [_opt(k.loc[y, PROD]) if y in k.index else None for y in years]
        nat_vals = [_opt(nat_all.loc[y, PROD]) if y in nat_all.index else None for y in years]
        trend = LineChart(
            chart_id="gambar-tren",
            title=f"{t('productivity')} {t('kaltim')} {t('and')} {t('indonesia')}, {ylab(years[0])}–{ylab(years[-1])} ({t('unit_million_per_worker')})",
            desc="; ".join(
                f"{ylab(y)}: {t('kaltim')} {F.number(a, 2, lang)}, {t('indonesia')} {F.number(b, 2, lang)}"
                for y, a, b in zip(years, kal_vals, nat_vals, strict=True)
            ),
            x=years,
            x_labels=[ylab(y) for y in years],
            series={t("kaltim"): kal_vals, t("indonesia"): nat_vals},
            unit=t("unit_million_per_worker"),
            fmt=lambda v: F.number(v, 0 if float(v).is_integer() else 2, lang),
        )
        trows = []
        for y, a, b in zip(years, kal_vals, nat_vals, strict=True):
            g = _opt(k.loc[y, "productivity_growth_pct"]) if y in k.index else None
            trows.append(
                {
                    "code": str(y),
                    "highlight": False,
                    "cells": [ylab(y), F.number(a, 2, lang), F.signed(g, 2, lang), F.number(b, 2, lang)],
                }
            )
        sections.append(
            {
                "id": "tren",
                "title": t("sec_trend"),
                "figure": _figure(figs.next(), trend, t("source_bps"), t, variant),
                "table": {
                    "id": "tabel-tren",
                    "n": tabs.next(),
                    "title": f"{t('productivity')} {t('kaltim')} {t('and')} {t('indonesia')} ({t('unit_million_per_worker')})",
                    "head": [t("year"), t("kaltim"), f"{t('growth')} (%)", t("indonesia")],
                    "rows": trows,
                    "source": t("source_bps"),
                    "numeric": [1, 2, 3],
                },
            }
        )
    elif prov is not None:
        ctx["diagnostics"].append("provincial productivity has no year with Kaltim's productivity")

    # 3. regencies/cities: productivity where both inputs exist, employment everywhere
    kk = inp.kabkota
    if kk is not None and not kk.empty:
        ky = int(kk["year"].max()) if year is None or year not in set(kk["year"]) else year
        kd = kk[kk["year"] == ky].copy()
        kd["display_name"] = [
            kabkota_display_name(c) if c in kaltim_kabkota() else n
            for c, n in zip(kd["region_code"], kd["region_name"], strict=True)
        ]
        kd = kd.sort_values([PROD, "display_name"], ascending=[False, True], na_position="last")
        chart = BarChart(
            chart_id="gambar-kabkota",
            title=f"{t('productivity')} {t('kabkota').lower()}, {ylab(ky)} ({t('unit_million_per_worker')})",
            desc=", ".join(
                f"{n}: {F.number(v, 2, lang)}" for n, v in zip(kd["display_name"], kd[PROD], strict=True)
            ),
            labels=list(kd["display_name"]),
            values=[_opt(v) for v in kd[PROD]],
            unit=t("unit_million_per_worker"),
            fmt=lambda v: F.number(v, 2 if v % 1 else 0, lang),
        )
        rows = [
            {
                "code": r.region_code,
                "highlight": False,
                "cells": [
                    r.display_name,
                    F.number(r.employed_persons, 0, lang),
                    F.number(r.grdp_adhk2010_billion_idr, 2, lang),
                    F.number(getattr(r, PROD), 2, lang),
                    F.number(r.rank, 0, lang),
                ],
            }
            for r in kd.itertuples()
        ]
        sections.append(
            {
                "id": "kabkota",
                "title": t("sec_kabkota"),
                "figure": _figure(figs.next(), chart, t("source_bps"), t, variant),
                "table": {
                    "id": "tabel-kabkota",
                    "n": tabs.next(),
                    "title": f"{t('kabkota')}, {ylab(ky)}",
                    "head": [
                        t("kabkota"),
                        f"{t('employed')} ({t('unit_persons')})",
                        f"{t('grdp')} ({t('unit_billion')})",
                        f"{t('productivity')} ({t('unit_million_per_worker')})",
                        t("rank"),
                    ],
                    "rows": rows,
                    "source": t("source_bps"),
                    "numeric": [1, 2, 3, 4],
                    "note": f"{F.EMPTY_CELL} = {t('not_available')}",
                },
            }
        )

    # 4. employment by industry group
    sec = inp.sectors
    if sec is not None and not sec.empty:
        sy = int(sec["year"].max())
        sd = sec[sec["year"] == sy].copy()
        gcol = _col(sd, "pdrb_group", "sector_code")
        share = _col(sd, "share_pct", "share")
        sd["display_name"] = [f"{g} {F.sector_name(g, lang)}" for g in sd[gcol]]
        sd = sd.sort_values("employed_persons", ascending=False)
        chart = BarChart(
            chart_id="gambar-sektor",
            title=f"{t('employed')} {t('kaltim')} {F.period_label(f'{sy}-08', lang)} ({t('unit_persons')})",
            desc=", ".join(
                f"{F.sector_short(n, lang)}: {F.number(v, 0, lang)}"
                for n, v in zip(sd[gcol], sd["employed_persons"], strict=True)
            ),
            labels=[F.sector_short(g, lang) for g in sd[gcol]],
            values=[float(v) for v in sd["employed_persons"]],
            unit=t("unit_persons"),
            fmt=lambda v: F.number(v, 0, lang),
        )
        rows = [
            {
                "code": str(getattr(r, gcol)),
                "highlight": False,
                "cells": [
                    r.display_name,
                    F.number(r.employed_persons, 0, lang),
                    F.number(getattr(r, share), 2, lang) if share else F.EMPTY_CELL,
                ],
            }
            for r in sd.itertuples()
        ]
        rows.append(
            {
                "code": "total",
                "highlight": True,
                "cells": [
                    "Jumlah" if lang == "id" else "Total",
                    F.number(sd["employed_persons"].sum(), 0, lang),
                    F.number(100, 2, lang),
                ],
            }
        )
        sections.append(
            {
                "id": "sektor",
                "title": t("sec_sectors"),
                "figure": _figure(
                    figs.next(),
                    chart,
                    f"{t('source_bps')}, Sakernas {F.period_label(f'{sy}-08', lang).split()[0]}",
                    t,
                    variant,
                ),
                "table": {
                    "id": "tabel-sektor",
                    "n": tabs.next(),
                    "title": f"{t('employed')} {t('kaltim')}, {F.period_label(f'{sy}-08', lang)}",
                    "head": [t("sector"), f"{t('employed')} ({t('unit_persons')})", f"{t('share')} (%)"],
                    "rows": rows,
                    "source": f"{t('source_bps')}, Sakernas {F.period_label(f'{sy}-08', lang).split()[0]}",
                    "numeric": [1, 2],
                },
            }
        )

    # 5. the programme: aggregates (suppressed cells shown as such) and the data-quality annex
    prog = programme_facts(inp)
    ctx["programme"] = prog
    ctx["programme_text"] = ""
    if prog["submitted"] == 0:
        hl.append(t("no_submissions", period=period_label))
    else:
        ctx["programme_text"] = programme_sentence(prog, period_label, lang)
        hl.append(ctx["programme_text"])
    ctx["aggregate_tables"] = aggregate_tables(inp.aggregates, lang, period_label, ctx["synthetic"], tabs)
    ctx["quality_summary_n"] = tabs.next()
    ctx["fmt_int"] = lambda x: F.number(x, 0, lang)
    ctx["quality_table"] = {
        "id": "tabel-kualitas",
        "n": tabs.next(),
        "title": f"{t('quality_reasons_title')}, {period_label}",
        "head": [t("reason"), t("rows"), t("files")],
        "rows": [
            {
                "code": r["code"],
                "highlight": False,
                "cells": [
                    F.reason_label(r["code"], lang),
                    F.number(r["rows"], 0, lang),
                    F.number(r["files"], 0, lang),
                ],
            }
            for r in prog["by_reason"]
        ],
        "source": t("source_programme"),
        "numeric": [1, 2],
        **({"note": t("multi_reason_note")} if prog["multi_reason"] else {}),
    }
    ctx["sources"] = [
        {**e.__dict__, "years_label": _years_label(e.years)}
        for e in source_entries(inp, lang, {"provincial": None, "kabkota": ky, "sectors": sy})
    ]
    ctx["sources_n"] = tabs.next()
    # the legend explains only the marks this bulletin prints
    marks = {F.status_mark(v) for v in statuses.values()}
    ctx["legend"] = "; ".join(p for p in t("legend_status").split("; ") if p.split(" ", 1)[0] in marks)
    return ctx


def programme_sentence(prog: dict[str, Any], period_label: str, lang: str) -> str:
    """The highlight on the period's submissions, with exactly the submissions stage's counts."""

    def n(x: int) -> str:
        return F.number(x, 0, lang)

    text = F.t(
        "hl_programme",
        lang,
        period=period_label,
        files=n(prog["files_received"]),
        rows_read=n(prog["rows_read"]),
        accepted=n(prog["rows_accepted"]),
        companies=n(prog["companies_accepted"]),
    )
    q, u = prog["rows_quarantined"], prog["files_unreadable"]
    if q and u:
        tail = F.t("hl_programme_q_and_files", lang, quarantined=n(q), unreadable=n(u))
    elif q:
        tail = F.t("hl_programme_q", lang, quarantined=n(q))
    elif u:
        tail = F.t("hl_programme_files", lang, unreadable=n(u))
    else:
        tail = F.t("hl_programme_clean", lang)
    return f"{text}{tail}"


def aggregate_tables(
    agg: pd.DataFrame | None, lang: str, period_label: str, synthetic: bool, tabs: Counter
) -> list[dict[str, Any]]:
    """Tables of the programme's aggregates by kab/kota and by PDRB group, each with its total row.

    ``va_per_worker_idr`` of the aggregates is value added per worker **per month** (Σ VA ÷ Σ
    workers, current prices); the annualised column is 12 × that. A suppressed cell prints the
    confidentiality text across both value columns; its value is null in the Parquet and never read.
    """
    if agg is None or agg.empty:
        return []

    def t(key: str, **kw: Any) -> str:
        return F.t(key, lang, **kw)

    total = agg[agg["level"] == "total"]
    out = []
    for level, key, label in (
        ("kabkota", "kabkota_code", t("kabkota")),
        ("sector", "pdrb_group", t("sector")),
    ):
        part = agg[agg["level"] == level]
        if part.empty:
            continue
        rows = []
        for r in part.sort_values(key).itertuples():
            code = str(getattr(r, key))
            if level == "kabkota":
                name = kabkota_display_name(code) if code in kaltim_kabkota() else code
            else:
                name = f"{code} {F.sector_name(code, lang)}"
            rows.append(_aggregate_row(code, name, r, lang, highlight=False))
        for r in total.itertuples():
            rows.append(_aggregate_row("total", t("total"), r, lang, highlight=True))
        out.append(
            {
                "id": f"tabel-agregat-{level}",
                "n": tabs.next(),
                "title": t("agg_title", by=label.lower(), period=period_label),
                "head": [label, t("n_companies"), t("va_per_worker_month"), t("va_per_worker_year")],
                "rows": rows,
                "source": t("source_programme") + (f"; {t('synthetic')}" if synthetic else ""),
                "numeric": [1, 2, 3],
                "note": t("agg_note"),
            }
        )
    return out


def _aggregate_row(code: str, name: str, r: Any, lang: str, highlight: bool) -> dict[str, Any]:
    head = [name, F.number(r.n_companies, 0, lang)]
    if bool(r.suppressed):
        return {
            "code": code,
            "highlight": highlight,
            "suppressed": True,
            "cells": [*head, F.t("suppressed", lang)],
        }
    month = float(r.va_per_worker_idr)
    year = getattr(r, "va_per_worker_annualised_idr", None)
    year = month * 12 if F.is_missing(year) else float(year)
    return {
        "code": code,
        "highlight": highlight,
        "suppressed": False,
        "cells": [*head, F.number(month / 1e6, 2, lang), F.number(year / 1e6, 2, lang)],
    }


def _figure(n: int, chart: BarChart | LineChart, source: str, t: Any, variant: str) -> dict[str, Any]:
    if isinstance(chart, BarChart):
        rows = table_rows(chart.labels, chart.values, chart.fmt)
    else:
        labels = chart.x_labels or [str(x) for x in chart.x]
        rows = [
            (
                lab,
                " / ".join(
                    f"{name}: {chart.fmt(vals[i]) if vals[i] is not None else '-'}"
                    for name, vals in chart.series.items()
                ),
            )
            for i, lab in enumerate(labels)
        ]
    return {
        "n": n,
        "id": chart.chart_id,
        "title": chart.title,
        "svg": chart.svg() if variant == "web" else "",
        "svg_narrow": chart.svg(narrow=True) if variant == "web" else "",
        "cid": f"{chart.chart_id}@produktivitas",
        "chart": chart,
        "rows": rows,
        "source": source,
    }


def _reason_codes(df: pd.DataFrame) -> pd.Series:
    """One reason code per element: ``reason_codes`` is ';'-separated (a row can fail several rules)."""
    codes = df["reason_codes"].astype("string").fillna("").str.split(";")
    return codes.explode().str.strip().replace("", pd.NA).dropna()


def programme_facts(inp: BulletinInputs) -> dict[str, Any]:
    """Files received, rows read/accepted/quarantined, unreadable files and quarantine reasons.

    Counts come from the submissions stage's outputs: accepted rows (``processed/submissions``),
    quarantined rows and files (``processed/quarantine/.../rows.parquet``, ``kind`` = row/file) and
    the files list and rows read that the stage recorded in the Parquet metadata. They equal the
    stage's own counts: rows read = accepted + quarantined rows.
    """
    sub, q = inp.submissions, inp.quarantine
    if q is not None and "kind" not in q.columns:
        q = None
    q_rows = q[q["kind"] == "row"] if q is not None else None
    q_files = q[q["kind"] == "file"] if q is not None else None
    rows_accepted = 0 if sub is None else len(sub)
    rows_quarantined = 0 if q_rows is None else len(q_rows)
    files_unreadable = 0 if q_files is None else len(q_files)
    meta = inp.submission_meta
    files: set[str] = set()
    for df in (sub, q):
        if df is not None and "source_file" in df.columns:
            files |= {str(x) for x in df["source_file"].dropna().unique()}
    files_received = len(meta["files"]) if "files" in meta else len(files)
    rows_read = int(meta.get("rows_read", rows_accepted + rows_quarantined))
    companies = inp.companies if inp.companies is not None and "nib" in inp.companies.columns else sub
    companies_accepted = (
        0 if companies is None or "nib" not in companies.columns else companies["nib"].nunique()
    )
    by_reason: list[dict[str, Any]] = []
    if q is not None and not q.empty and "reason_codes" in q.columns:
        exploded = pd.DataFrame({"code": _reason_codes(q)}).join(q["kind"])
        grp = exploded.groupby(["code", "kind"]).size().unstack(fill_value=0)
        for kind in ("row", "file"):
            if kind not in grp.columns:
                grp[kind] = 0
        grp["total"] = grp["row"] + grp["file"]
        grp = grp.reset_index().sort_values(["total", "code"], ascending=[False, True])
        by_reason = [
            {"code": str(r.code), "rows": int(r.row), "files": int(r.file)} for r in grp.itertuples()
        ]
    return {
        "files_received": files_received,
        "files_unreadable": files_unreadable,
        "rows_read": rows_read,
        "rows_accepted": rows_accepted,
        "rows_quarantined": rows_quarantined,
        "companies_accepted": int(companies_accepted),
        "submitted": files_received + rows_read,  # anything arrived at all
        "multi_reason": sum(r["rows"] for r in by_reason) > rows_quarantined
        or sum(r["files"] for r in by_reason) > files_unreadable,
        "by_reason": by_reason,
    }


# --- sources -----------------------------------------------------------------------------------------
# Which Parquet column names the source of which dataset, and how a reader calls that dataset.
_SOURCE_SPECS: tuple[tuple[str, str, str, str, str, str], ...] = (
    # key, frame attribute, source column, vintage column, Indonesian label, English label
    ("pdrb_prov", "provincial", "grdp_source", "grdp_vintage",
     "PDRB atas dasar harga konstan 2010 menurut provinsi", "GRDP at constant 2010 prices by province"),
    ("pdb", "provincial", "grdp_source", "grdp_vintage",
     "PDB Indonesia atas dasar harga konstan 2010", "Indonesia's GDP at constant 2010 prices"),
    ("emp_prov", "provincial", "employment_source", "employment_vintage",
     "Penduduk bekerja menurut provinsi (Sakernas Agustus)", "Employed persons by province (August Sakernas)"),
    ("pdrb_kab", "kabkota", "grdp_source", "grdp_vintage",
     "PDRB atas dasar harga konstan 2010 kabupaten/kota", "GRDP at constant 2010 prices by regency/city"),
    ("emp_kab", "kabkota", "employment_source", "employment_vintage",
     "Penduduk bekerja menurut kabupaten/kota (Sakernas Agustus)",
     "Employed persons by regency/city (August Sakernas)"),
    ("emp_sector", "sectors", "source", "vintage",
     "Penduduk bekerja menurut lapangan usaha, Kalimantan Timur (Sakernas Agustus)",
     "Employed persons by industry, East Kalimantan (August Sakernas)"),
)  # fmt: skip

_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV"}
_REPO = re.compile(r"github\.com/([\w.-]+/[\w.-]+)")


@dataclass
class SourceEntry:
    """One dataset from one kind of source, as a person would cite it, plus the recorded strings."""

    data: str
    publisher: str
    years: list[int]
    access: str
    status: str
    technical: list[str]


def _source_kind(src: str) -> str:
    if re.search(r"BPS WebAPI var \d+", src):
        return "webapi"
    if "third-party compiled" in src:
        return "third_party"
    if "as reported by the press" in src or src.startswith("BPS release"):
        return "press"
    if src.startswith(("http://", "https://")):
        return "news"
    if _REPO.search(src):
        return "repository"
    return "other"


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside parentheses (a note inside "(...; ...)" stays whole)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        depth += (ch in "([") - (ch in ")]")
        if depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _technical_parts(src: str) -> tuple[list[str], list[str]]:
    """A recorded source string split into its citations and its notes (boundary, caution, ...)."""
    bases: list[str] = []
    notes: list[str] = []
    for part in _split_top(src, " | "):
        for m in re.finditer(r"\s*\[(CAUTION[^\]]*)\]", part):
            notes.append(m.group(1))
        part = re.sub(r"\s*\[CAUTION[^\]]*\]", "", part)
        part = re.sub(r"\s*\((sum of rows[^)]*|\d+-province boundary[^)]*)\)", "", part)
        part = re.sub(r"\s+column \S+$", "", part)
        part, _, alias = part.partition(" = ")
        if alias:
            notes.append(f"= {alias}")
        first, *rest = _split_top(part, "; ")
        bases.append(first.strip())
        notes += [r.strip() for r in rest if r.strip()]
    return bases, notes


def _years_label(years: list[int]) -> str:
    """``2019–2023`` for a run of years, ``2020, 2024`` otherwise."""
    ys = sorted(set(years))
    runs: list[list[int]] = []
    for y in ys:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def _access_text(kind: str, src: str, vintages: list[str], n_parts: int, lang: str) -> tuple[str, str]:
    """(publisher, access and vintage) in the reader's language."""
    en = lang == "en"
    repo = _REPO.search(src)
    repo_name = f"github.com/{repo.group(1)}" if repo else ""
    if kind == "webapi":
        var = re.search(r"var (\d+)", src)
        text = f"BPS WebAPI, {'table' if en else 'tabel'} var {var.group(1) if var else '?'}"
        to = next((re.search(r"data to (\d{4}) Q(\d)", v) for v in vintages if "data to" in v), None)
        if to:
            q = _ROMAN.get(to.group(2), to.group(2))
            text += (
                f"; stored copy of the response, data up to Quarter {q} {to.group(1)}"
                if en
                else f"; salinan respons tersimpan, data hingga Triwulan {q} {to.group(1)}"
            )
        return "BPS", text
    if kind == "press":
        return "BPS", "BPS release as quoted in the press" if en else "Rilis BPS sebagaimana dikutip media"
    if kind == "third_party":
        return (
            "BPS (compiled by a third party)" if en else "BPS (dikompilasi pihak ketiga)",
            f"Quarterly figures compiled in {repo_name}, summed to the year"
            if en
            else f"Angka triwulanan yang dikompilasi di {repo_name}, dijumlahkan menjadi tahunan",
        )
    if kind == "news":
        return (
            "BPS regencies/cities (quoted in the press)" if en else "BPS kabupaten/kota (dikutip media)",
            f"BPS releases quoted in {n_parts} online news articles"
            if en
            else f"Rilis BPS yang dikutip {n_parts} artikel media daring",
        )
    if kind == "repository":
        return (
            "BPS (third-party tabulation)" if en else "BPS (tabulasi pihak ketiga)",
            f"BPS tabulation kept in the public repository {repo_name}"
            if en
            else f"Tabulasi BPS di repositori publik {repo_name}",
        )
    return "-", src


def _status_text(
    kind: str, statuses: dict[int, str], vintages: list[str], years: list[int], lang: str
) -> str:
    en = lang == "en"
    parts = []
    for y in sorted(statuses):
        mark = F.status_mark(statuses[y])
        if mark:
            label = {
                "*": ("preliminary", "angka sementara"),
                "**": ("very preliminary", "angka sangat sementara"),
                "***": ("very very preliminary", "angka sangat sangat sementara"),
            }[mark]
            parts.append(f"{y}{mark}: {label[0] if en else label[1]}")
    if any("revised" in v for v in vintages):
        parts.append("includes revised figures" if en else "memuat angka revisi")
    if kind in ("third_party", "news"):
        parts.append(
            "not checked against a BPS publication" if en else "belum dicocokkan dengan publikasi BPS"
        )
    return "; ".join(parts) if parts else ("as published" if en else "sesuai rilis")


def source_entries(inp: BulletinInputs, lang: str, years_shown: dict[str, int | None]) -> list[SourceEntry]:
    """Sources per dataset, deduplicated: one entry per dataset and kind of source, with its years.

    ``years_shown`` limits a dataset to the year the bulletin prints (kab/kota and sectors show one
    year); None keeps every year. The recorded (English) source strings go to ``technical``.
    """
    out: list[SourceEntry] = []
    for key, attr, scol, vcol, label_id, label_en in _SOURCE_SPECS:
        df = getattr(inp, attr)
        if df is None or df.empty or scol not in df.columns:
            continue
        if attr == "provincial":
            df = df[(df["region_code"] == NATIONAL_CODE) == (key == "pdb")]
        shown = years_shown.get(attr)
        if shown is not None:
            df = df[df["year"] == shown]
        df = df[df[scol].notna() & (df[scol].astype("string").str.len() > 0)]
        if df.empty:
            continue
        kinds = df[scol].astype("string").map(_source_kind)
        for kind, part in df.groupby(kinds, sort=False):
            srcs = [str(x) for x in dict.fromkeys(part[scol])]
            vintages = [str(x) for x in dict.fromkeys(part[vcol].dropna())] if vcol in part.columns else []
            years = sorted({int(y) for y in part["year"]})
            statuses: dict[int, str] = {}
            if "grdp_status" in part.columns and scol == "grdp_source":
                for y, st in zip(part["year"], part["grdp_status"], strict=True):
                    if F.status_mark(st):
                        statuses[int(y)] = str(st)
            bases: list[str] = []
            notes: list[str] = []
            for src in srcs:
                b, n = _technical_parts(src)
                bases += b
                notes += n
            bases = list(dict.fromkeys(bases))
            publisher, access = _access_text(str(kind), srcs[0], vintages, len(bases), lang)
            technical = bases + [
                f"{'note' if lang == 'en' else 'catatan'}: {x}" for x in dict.fromkeys(notes)
            ]
            technical += [f"vintage: {v}" for v in vintages]
            out.append(
                SourceEntry(
                    data=label_en if lang == "en" else label_id,
                    publisher=publisher,
                    years=years,
                    access=access,
                    status=_status_text(str(kind), statuses, vintages, years, lang),
                    technical=technical,
                )
            )
    return out


# --- rendering and writing ---------------------------------------------------------------------------
def render_bulletin(ctx: dict[str, Any], env: Environment | None = None) -> str:
    return (env or template_env()).get_template("bulletin.html.j2").render(**ctx)


def render_bulletin_text(ctx: dict[str, Any], env: Environment | None = None) -> str:
    return (env or template_env()).get_template("bulletin.txt.j2").render(**ctx)


def bulletin_periods(storage: Storage) -> list[str]:
    return sorted(n for n in storage.listdir(BULLETINS_DIR) if PERIOD_DIR_RE.match(n))


def sequence_number(storage: Storage, period: str) -> int:
    """Running number of the bulletin within its year: its position among that year's bulletins."""
    same_year = {p for p in bulletin_periods(storage) if p[:4] == period[:4] and p <= period}
    same_year.add(period)
    return len(same_year)


def bulletin_rel(period: str, lang: str = "id", primary: bool = True) -> str:
    name = "bulletin.html" if primary else f"bulletin-{lang}.html"
    return posixpath.join(BULLETINS_DIR, period, name)


def render_archive(storage: Storage, lang: str = "id", env: Environment | None = None) -> str:
    items = []
    for p in sorted(bulletin_periods(storage), reverse=True):
        files = storage.listdir(posixpath.join(BULLETINS_DIR, p))
        links = [
            (f, f"{p}/{f}")
            for f in files
            if f.startswith("bulletin") and f.endswith(".html") and "email" not in f
        ]
        if links:
            items.append({"period": p, "label": F.period_label(p, lang), "links": links})
    return (
        (env or template_env())
        .get_template("archive.html.j2")
        .render(t=lambda k, **kw: F.t(k, lang, **kw), lang=lang, items=items)
    )


def write_archive(storage: Storage, lang: str = "id") -> str:
    rel = posixpath.join(BULLETINS_DIR, "index.html")
    storage.write_text(rel, render_archive(storage, lang))
    return storage.url(rel)


def _render_bulletins(
    storage: Storage,
    inp: BulletinInputs,
    lang: str,
    run_date: date,
    recipients: list[Any],
    outputs: list[str],
) -> dict[str, dict[str, Any]]:
    """Write the period's bulletin (web and e-mail) and charts in every recipient's language; what the
    messages need, per language. The files written are added to ``outputs``."""
    from tasks.mailer import inline_css

    env = template_env()
    period = inp.period
    seq = sequence_number(storage, period)
    base = posixpath.join(BULLETINS_DIR, period)
    per_lang: dict[str, dict[str, Any]] = {}
    for lg in [lang, *sorted({r.language for r in recipients} - {lang})]:
        web_ctx = build_context(inp, lg, run_date, seq, "web")
        web = render_bulletin(web_ctx, env)
        mail_ctx = build_context(inp, lg, run_date, seq, "email")
        email_html = inline_css(render_bulletin(mail_ctx, env))
        suffix = "" if lg == lang else f"-{lg}"
        for name, text in ((f"bulletin{suffix}.html", web), (f"bulletin-email{suffix}.html", email_html)):
            storage.write_text(posixpath.join(base, name), text)
            outputs.append(storage.url(posixpath.join(base, name)))
        images: dict[str, bytes] = {}
        for s in mail_ctx["sections"]:
            fig = s["figure"]
            png = fig["chart"].png()
            images[fig["cid"]] = png
            if lg == lang:
                rel = posixpath.join(base, "charts", f"{fig['id']}.png")
                storage.write_bytes(rel, png)
                outputs.append(storage.url(rel))
        per_lang[lg] = {
            "web": web,
            "email": email_html,
            "text": render_bulletin_text(mail_ctx, env),
            "images": images,
            "subject": F.t("subject", lg, period=F.period_label(period, lg)),
            "diagnostics": web_ctx["diagnostics"],
            "synthetic": web_ctx["synthetic"],
        }
    return per_lang


@keep_workers()
def produce_period(
    storage: Storage,
    period: str,
    lang: str,
    run_date: date,
    recipients: list[Any] | None = None,
    workers: int = 1,
    layout: str = "auto",
) -> dict[str, Any]:
    """Render and write everything of a period; return outputs, counts, notices and the bulletin messages.

    Writes ``processed/bulletins/YYYY-MM/bulletin.html`` (``bulletin-en.html`` for the other
    language when a recipient reads it), ``bulletin-email.html`` (CSS inlined, charts as cid:),
    ``charts/*.png``, the confidential company reports in ``companies/`` (``reports.parquet``, and
    ``<nib>.html`` files as ``layout`` says; in batches, on ``workers`` processes for big periods) and
    the archive ``index.html``. Company reports' messages are not built here:
    ``period_messages`` builds them one at a time for the delivery.
    """
    from tasks.company_report import report_addresses, reports_on_workers, write_company_reports
    from tasks.mailer import Outgoing

    lang = F.check_lang(lang)
    recipients = recipients or []
    inp = load_inputs(storage, period)
    release = F.long_date(run_date, lang)
    outputs: list[str] = []
    notices: list[str] = []
    if inp.companies is not None and reports_on_workers(workers, len(inp.companies)):
        # A big period's reports render on the worker processes while this thread renders the bulletin
        # (~2 s of one core that the workers would otherwise wait for). They share no file: the reports
        # are built in a folder of their own and swapped in.
        # Should the bulletin fail, leaving the block still waits for the reports before the error goes up.
        with ThreadPoolExecutor(1, thread_name_prefix="company-reports") as pool:
            pending = pool.submit(write_company_reports, storage, inp, lang, release, workers, layout)
            per_lang = _render_bulletins(storage, inp, lang, run_date, recipients, outputs)
        reports = pending.result()
    else:
        per_lang = _render_bulletins(storage, inp, lang, run_date, recipients, outputs)
        reports = write_company_reports(storage, inp, lang, release, workers, layout)
    messages = [
        Outgoing(
            kind="bulletin",
            recipient=r.email,
            recipient_name=r.name,
            subject=per_lang[r.language]["subject"],
            text=per_lang[r.language]["text"],
            html=per_lang[r.language]["email"],
            images=per_lang[r.language]["images"],
            attachments=[
                (
                    f"buletin-produktivitas-kaltim-{period}.html",
                    per_lang[r.language]["web"].encode(),
                    "text/html",
                )
            ],
        )
        for r in recipients
    ]
    addresses, missing = report_addresses(inp)
    notices += missing
    if reports["folder"]:
        outputs.append(reports["folder"])
    outputs.append(write_archive(storage, lang))
    primary = per_lang[lang]
    if primary["synthetic"]:
        notices.append(
            f"Buletin {period} memuat data perusahaan sintetis (contoh); label sintetis ditampilkan."
        )
    if inp.submissions is None and inp.companies is None:
        notices.append(f"Tidak ada kiriman data perusahaan untuk periode {period}; buletin menyatakannya.")
    return {
        "outputs": outputs,
        "counts": {
            "bulletins": len(per_lang),
            "company_reports": reports["reports"],
            "messages": len(messages) + len(addresses),
        },
        "notices": notices,
        "diagnostics": primary["diagnostics"],
        "messages": messages,  # the bulletin's; company reports' are built during delivery
        "release_date": release,
    }


def period_messages(
    storage: Storage, period: str, lang: str, release_date: str, bulletin_messages: list[Any]
) -> Iterator[Any]:
    """The bulletin's messages, then one per company report, each company's built only when taken."""
    from tasks.company_report import company_messages, report_addresses

    yield from bulletin_messages
    inp = load_inputs(storage, period)
    addresses, _ = report_addresses(inp)
    yield from company_messages(storage, inp, lang, release_date, addresses)
