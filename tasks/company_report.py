"""The confidential feedback report for one company and one period.

A company sees its own indicators and their trend over earlier periods, beside published
(disclosure-safe) benchmarks only: aggregate cells that were not suppressed and the BPS/Kemnaker
figures. It never sees unsafe cells, other companies' values or peer rankings.
"""

from __future__ import annotations

import posixpath
from typing import Any

import pandas as pd
from jinja2 import Environment

from schemas.codes import KALTIM_PROVINCE_CODE, kabkota_display_name, kaltim_kabkota, pdrb_groups
from tasks import formatting as F
from tasks.bulletin import (
    BULLETINS_DIR,
    COMPANY_DIR,
    PROD,
    RECEIPTS_DIR,
    BulletinInputs,
    is_synthetic,
    partition_periods,
    read_partition,
    template_env,
    year_statuses,
)
from tasks.storage import Storage

# (column, label id, label en, formatter kind)
INDICATORS: list[tuple[str, str, str, str]] = [
    ("value_added_idr", "Nilai tambah", "Value added", "rupiah"),
    ("va_per_worker_idr", "Nilai tambah per pekerja", "Value added per worker", "rupiah"),
    (
        "va_per_worker_annualised_idr",
        "Nilai tambah per pekerja (disetahunkan)",
        "Value added per worker (annualised)",
        "rupiah",
    ),
    ("va_per_hour_idr", "Nilai tambah per jam kerja", "Value added per hour worked", "rupiah"),
    (
        "labour_cost_competitiveness",
        "Daya saing biaya tenaga kerja (NT ÷ biaya TK)",
        "Labour-cost competitiveness (VA ÷ labour cost)",
        "ratio",
    ),
    ("productivity_index", "Indeks produktivitas", "Productivity index", "index"),
    (
        "productivity_index_prev",
        "Indeks produktivitas (periode sebelumnya = 100)",
        "Productivity index (previous period = 100)",
        "index",
    ),
    (
        "productivity_index_base",
        "Indeks produktivitas (periode dasar = 100)",
        "Productivity index (base period = 100)",
        "index",
    ),
    ("productivity_index_chain", "Indeks produktivitas berantai", "Chained productivity index", "index"),
]


def _fmt(kind: str, v: Any, lang: str) -> str:
    if kind == "rupiah":
        return F.rupiah(v, 2, lang)
    return F.number(v, 2, lang)


def company_history(storage: Storage, nib: str, period: str) -> pd.DataFrame:
    """This company's rows of earlier periods' partitions (only its own rows are kept)."""
    frames = []
    for p in partition_periods(storage, COMPANY_DIR):
        if p >= period:
            continue
        df = read_partition(storage, COMPANY_DIR, p)
        if df is None or "nib" not in df.columns:
            continue
        own = df[df["nib"].astype(str) == nib]
        if not own.empty:
            frames.append(own.assign(period=p))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def build_company_context(
    storage: Storage, inp: BulletinInputs, row: pd.Series, lang: str, release_date: str
) -> dict[str, Any]:
    lang = F.check_lang(lang)
    period_label = F.period_label(inp.period, lang)
    nib = str(row["nib"])
    own = [
        {"label": lid if lang == "id" else len_, "value": _fmt(kind, row.get(col), lang), "col": col}
        for col, lid, len_, kind in INDICATORS
        if col in row.index
    ]
    hist = company_history(storage, nib, inp.period)
    trend_rows = []
    cols = [c for c, *_ in INDICATORS if c in row.index][:3]
    for _, h in hist.sort_values("period").iterrows() if not hist.empty else []:
        trend_rows.append(
            [F.period_label(h["period"], lang), *(_fmt("rupiah", h.get(c), lang) for c in cols)]
        )
    trend_rows.append([period_label, *(_fmt("rupiah", row.get(c), lang) for c in cols)])
    trend_head = [
        F.t("period", lang),
        *(lid if lang == "id" else len_ for c, lid, len_, _ in INDICATORS if c in cols),
    ]

    bench: list[dict[str, str]] = []
    agg = inp.aggregates
    if agg is not None and not agg.empty:
        for level, key, name in (
            (
                "kabkota",
                "kabkota_code",
                kabkota_display_name(str(row["kabkota_code"]))
                if str(row.get("kabkota_code")) in kaltim_kabkota()
                else str(row.get("kabkota_code")),
            ),
            (
                "pdrb_group",
                "pdrb_group",
                f"{row.get('pdrb_group')} {pdrb_groups().get(str(row.get('pdrb_group')), '')}".strip(),
            ),
        ):
            levels = [level, "sector"] if level == "pdrb_group" else [level]
            cell = agg[agg["level"].isin(levels) & (agg[key].astype(str) == str(row.get(key)))]
            # Only published cells: a suppressed cell is never shown, not even as a hint of its value.
            cell = cell[~cell["suppressed"].fillna(True).astype(bool)]
            for c in cell.itertuples():
                bench.append(
                    {
                        "label": f"{F.t('va_per_worker', lang)} — {name} ({F.t('period', lang).lower()} {period_label}, {F.number(c.n_companies, 0, lang)} {'perusahaan' if lang == 'id' else 'companies'})",
                        "value": F.rupiah(c.va_per_worker_idr, 2, lang),
                    }
                )
    prov = inp.provincial
    if prov is not None and not prov.empty:
        k = prov[(prov["region_code"] == KALTIM_PROVINCE_CODE) & prov[PROD].notna()]
        if not k.empty:
            y = int(k["year"].max())
            st = year_statuses(prov)
            v = float(k.set_index("year").loc[y, PROD])
            bench.append(
                {
                    "label": f"{F.t('productivity', lang)} {F.t('kaltim', lang)} {F.year_label(y, st.get(y))} (BPS, {'per tahun' if lang == 'id' else 'per year'})",
                    "value": F.rupiah_million(v, 2, lang),
                }
            )
    for col in row.index:
        if (
            col.startswith("benchmark_")
            and col.endswith("_million_idr_per_worker")
            and not F.is_missing(row[col])
        ):
            what = col.removeprefix("benchmark_").removesuffix("_million_idr_per_worker").replace("_", " ")
            bench.append(
                {
                    "label": f"{F.t('productivity', lang)} ({what}; {'pembanding' if lang == 'id' else 'benchmark'})",
                    "value": F.rupiah_million(row[col], 2, lang),
                }
            )

    receipt_rel = posixpath.join(RECEIPTS_DIR, f"period={inp.period}", f"{nib}.txt")
    receipt_text = storage.read_text(receipt_rel) if storage.exists(receipt_rel) else ""
    receipt_html = posixpath.join(RECEIPTS_DIR, f"period={inp.period}", f"{nib}.html")
    receipt_link = (
        posixpath.relpath(receipt_html, posixpath.join(BULLETINS_DIR, inp.period, "companies"))
        if storage.exists(receipt_html)
        else ""
    )
    return {
        "lang": lang,
        "t": lambda k, **kw: F.t(k, lang, **kw),
        "period": inp.period,
        "period_label": period_label,
        "release_date": release_date,
        "company_name": str(row.get("company_name", nib)),
        "nib": nib,
        "synthetic": is_synthetic(pd.DataFrame([row])),
        "own": own,
        "trend_head": trend_head,
        "trend_rows": trend_rows,
        "benchmarks": bench,
        "receipt_text": receipt_text,
        "receipt_link": receipt_link,
        "flags": str(row.get("flags") or ""),
        "price_basis": str(row.get("price_basis") or ""),
    }


def render_company_report(ctx: dict[str, Any], env: Environment | None = None) -> str:
    return (env or template_env()).get_template("company_report.html.j2").render(**ctx)


def render_company_text(ctx: dict[str, Any], env: Environment | None = None) -> str:
    return (env or template_env()).get_template("company_report.txt.j2").render(**ctx)


def company_report_rel(period: str, nib: str) -> str:
    return posixpath.join(BULLETINS_DIR, period, "companies", f"{nib}.html")
