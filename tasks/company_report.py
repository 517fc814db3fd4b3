"""The confidential feedback report for one company and one period.

A company sees its own indicators and their trend over earlier periods, beside published
(disclosure-safe) benchmarks only: aggregate cells that were not suppressed and the BPS/Kemnaker
figures. It never sees unsafe cells, other companies' values or peer rankings.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from jinja2 import Environment

from schemas.codes import KALTIM_PROVINCE_CODE, kabkota_display_name, kaltim_kabkota
from schemas.documents import company_reports_schema
from tasks import formatting as F
from tasks.bulletin import (
    BULLETINS_DIR,
    COMPANY_DIR,
    PROD,
    RECEIPTS_DIR,
    SYNTHETIC_MARK,
    BulletinInputs,
    partition_periods,
    read_partition,
    template_env,
    year_statuses,
)
from tasks.process_pool import LazyBatches, keep_workers, map_batches, prestart
from tasks.receipts import read_texts
from tasks.storage import Storage

# (column, label id, label en, formatter kind). Units follow schemas/company.py: value added is a
# monthly flow at current prices, "disetahunkan" is 12 x the month.
INDICATORS: list[tuple[str, str, str, str]] = [
    ("value_added_idr", "Nilai tambah (sebulan)", "Value added (month)", "rupiah"),
    ("va_per_worker_idr", "Nilai tambah per pekerja per bulan", "Value added per worker per month", "rupiah"),
    (
        "va_per_worker_annualised_idr",
        "Nilai tambah per pekerja per tahun (disetahunkan)",
        "Value added per worker per year (annualised)",
        "rupiah",
    ),
    ("va_per_hour_idr", "Nilai tambah per jam kerja", "Value added per hour worked", "rupiah"),
    (
        "labour_cost_competitiveness",
        "Daya saing biaya tenaga kerja (nilai tambah ÷ biaya tenaga kerja)",
        "Labour-cost competitiveness (value added ÷ labour cost)",
        "ratio",
    ),
    (
        "labour_share_pct",
        "Pangsa biaya tenaga kerja dalam nilai tambah (%)",
        "Labour share of value added (%)",
        "ratio",
    ),
    ("va_ratio_pct", "Rasio nilai tambah terhadap penjualan (%)", "Value added to sales (%)", "ratio"),
    (
        "productivity_index_prev",
        "Indeks produktivitas (bulan sebelumnya = 100)",
        "Productivity index (previous month = 100)",
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

# The company stage's flags (schemas/company.py) as sentences to the company.
FLAG_SENTENCES: dict[str, tuple[str, str]] = {
    "flag_negative_va": (
        "Nilai tambah bulan ini negatif (pembelian melebihi penjualan dan pendapatan usaha lain). Data tetap "
        "diterima; mohon periksa kembali angka penjualan dan pembelian.",
        "Value added this month is negative (purchases exceed sales and other income). The data were kept; "
        "please check sales and purchases.",
    ),
    "flag_zero_workers": (
        "Jumlah pekerja tercatat nol, sehingga indikator per pekerja tidak dapat dihitung.",
        "Workers were reported as zero, so per-worker indicators cannot be computed.",
    ),
    "flag_zero_hours": (
        "Jam kerja tercatat nol, sehingga nilai tambah per jam kerja tidak dapat dihitung.",
        "Hours worked were reported as zero, so value added per hour cannot be computed.",
    ),
    "flag_zero_labour_cost": (
        "Biaya tenaga kerja tercatat nol, sehingga daya saing biaya tenaga kerja tidak dapat dihitung.",
        "Labour cost was reported as zero, so labour-cost competitiveness cannot be computed.",
    ),
    "flag_zero_fixed_assets": (
        "Aset tetap tercatat nol, sehingga produktivitas aset tetap tidak dapat dihitung.",
        "Fixed assets were reported as zero, so capital productivity cannot be computed.",
    ),
    "flag_zero_sales": (
        "Penjualan bersih tercatat nol, sehingga rasio nilai tambah tidak dapat dihitung.",
        "Net sales were reported as zero, so the value-added ratio cannot be computed.",
    ),
    "flag_missing_input": (
        "Ada isian wajib (uang atau tenaga kerja) yang kosong; indikator yang memakainya tidak dihitung.",
        "A required money or labour item was empty; indicators built on it are not computed.",
    ),
    "flag_below_umk": (
        "Upah rata-rata per karyawan di bawah UMK kabupaten/kota. Ini tanda untuk diperiksa, bukan temuan "
        "hukum; pastikan upah dan jumlah karyawan sudah benar.",
        "Average wage per employee is below the regency/city minimum wage. A plausibility flag, not a legal "
        "finding; please check wages and employee numbers.",
    ),
}

PRICE_BASIS_LABEL = {
    "nominal": ("atas dasar harga berlaku (nominal)", "at current prices (nominal)"),
    "constant 2010 prices": ("atas dasar harga konstan 2010", "at constant 2010 prices"),
}
BENCHMARK_LEVEL = {
    "provincial sector": ("lapangan usaha {sector}, Kalimantan Timur", "{sector}, East Kalimantan"),
    "national sector": ("lapangan usaha {sector}, nasional", "{sector}, Indonesia"),
    "provincial total": ("seluruh lapangan usaha, Kalimantan Timur", "all industries, East Kalimantan"),
}


def _fmt(kind: str, v: Any, lang: str) -> str:
    if kind == "rupiah":
        return F.rupiah(v, 2, lang)
    return F.number(v, 2, lang)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "id" else pair[1]


def flag_sentences(row: Row, lang: str) -> list[str]:
    """Every true ``flag_*`` of the company's row as a sentence (null/False flags say nothing)."""
    out = []
    for col, pair in FLAG_SENTENCES.items():
        v = row.get(col)
        if v is not None and not F.is_missing(v) and bool(v):
            out.append(_pick(pair, lang))
    return out


TREND_COLS = ("value_added_idr", "va_per_worker_idr", "va_per_worker_annualised_idr")
Row = Mapping[str, Any]  # a company row: a pandas Series or a dict from ``to_dict("records")``


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


@dataclass
class ReportIndex:
    """What every company report of a period looks up, read and indexed once per run (not per company).

    ``history``: NIB -> its earlier periods' trend values, in period order; ``cells``: the published
    aggregate cells by (level, code) in the aggregates' row order; ``receipts``: the names in the
    period's receipts folder; ``receipt_texts``: NIB -> its plain-text receipt.
    """

    period: str
    history: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    cells: dict[tuple[str, str], list[tuple[Any, Any]]] = field(default_factory=dict)
    receipts: frozenset[str] = frozenset()
    receipt_texts: dict[str, str] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # per-language pieces shared by all companies


def _read_trend_columns(storage: Storage, period: str) -> pd.DataFrame | None:
    """One earlier company partition, only the columns a trend row shows."""
    files = storage.walk_files(f"{COMPANY_DIR}/period={period}", "*.parquet")
    frames = []
    for f in files:
        with storage.open(f, "rb") as fh:
            names = set(pq.read_schema(fh).names)
        if "nib" not in names:
            continue  # as the per-company reader: a file without NIBs has no company rows
        cols = ["nib", *(c for c in TREND_COLS if c in names)]
        with storage.open(f, "rb") as fh:
            frames.append(pq.read_table(fh, columns=cols).to_pandas())
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def report_index(storage: Storage, inp: BulletinInputs) -> ReportIndex:
    """Read each earlier company partition once, group by NIB, index the published aggregate cells once."""
    idx = ReportIndex(period=inp.period)
    wanted: list[str] | None = None
    if inp.companies is not None and "nib" in inp.companies.columns:
        wanted = inp.companies["nib"].astype(str).unique().tolist()
    for p in partition_periods(storage, COMPANY_DIR):
        if p >= inp.period:
            continue
        df = _read_trend_columns(storage, p)
        if df is None or df.empty:
            continue
        nibs = df["nib"].astype(str)
        if wanted is not None:
            keep = nibs.isin(wanted)
            df, nibs = df[keep], nibs[keep]
        values = [df[c].tolist() if c in df.columns else [None] * len(df) for c in TREND_COLS]
        for nib, *vals in zip(nibs.tolist(), *values, strict=True):
            idx.history.setdefault(nib, []).append((p, *vals))
    agg = inp.aggregates
    if agg is not None and not agg.empty:
        # The same selection as a per-company filter: level and code match, only published cells.
        published = ~agg["suppressed"].fillna(True).astype(bool)
        for level, col in (("kabkota", "kabkota_code"), ("sector", "pdrb_group"), ("total", None)):
            sel = agg[(agg["level"] == level) & published]
            codes = ["" for _ in range(len(sel))] if col is None else sel[col].astype("string").tolist()
            for code, n, v in zip(codes, sel["n_companies"].tolist(), sel["va_per_worker_idr"].tolist(),
                                  strict=True):  # fmt: skip
                if code is pd.NA:
                    continue
                idx.cells.setdefault((level, code), []).append((n, v))
    idx.receipts = frozenset(storage.listdir(posixpath.join(RECEIPTS_DIR, f"period={inp.period}")))
    idx.receipt_texts = read_texts(storage, inp.period, wanted)
    return idx


def _row_synthetic(row: Row) -> bool:
    """``is_synthetic`` of a one-row frame, without building the frame."""
    flag = row.get("synthetic")
    if flag is not None and not pd.isna(flag) and bool(flag):
        return True
    name = row.get("company_name")
    return name is not None and not pd.isna(name) and SYNTHETIC_MARK.search(str(name)) is not None


def _lang_pieces(idx: ReportIndex, inp: BulletinInputs, lang: str, release_date: str) -> dict[str, Any]:
    """What every report of the period shares in one language, computed once per index."""
    key = ("pieces", lang, release_date)
    pieces = idx.memo.get(key)
    if pieces is None:
        receipt_dir = posixpath.join(RECEIPTS_DIR, f"period={inp.period}")
        pieces = idx.memo[key] = {
            "period_label": F.period_label(inp.period, lang),
            "trend_head": [
                F.t("period", lang),
                *(lid if lang == "id" else len_ for c, lid, len_, _ in INDICATORS if c in TREND_COLS),
            ],
            "run_date_line": F.t("run_date", lang, date=release_date),
            "receipt_dir": receipt_dir,
            # the receipts folder as seen from the reports folder (NIBs are digits: no path to normalise)
            "receipt_up": posixpath.relpath(receipt_dir, company_reports_dir(inp.period)),
            "labels": {col: (lid if lang == "id" else len_) for col, lid, len_, _ in INDICATORS},
        }
    return pieces


def build_company_context(
    storage: Storage,
    inp: BulletinInputs,
    row: Row,
    lang: str,
    release_date: str,
    index: ReportIndex | None = None,
) -> dict[str, Any]:
    """The template context of one company's report; pass ``index`` (``report_index``) for many companies.

    Called once per company of a national month (10^5 times): each value is formatted once and the
    pieces every report shares are computed once per index.
    """
    lang = F.check_lang(lang)
    idx = index if index is not None else report_index(storage, inp)
    shared = _lang_pieces(idx, inp, lang, release_date)
    period_label = shared["period_label"]
    labels = shared["labels"]
    get = row.get
    nib = str(row["nib"])
    first_period = str(get("base_period") or inp.period) == inp.period
    shown: dict[str, str] = {}  # column -> its printed value (missing values are not shown)
    own = []
    for col, _, _, kind in INDICATORS:
        v = get(col)
        if F.is_missing(v):
            continue  # only what the data support: no row of dashes
        if first_period and col in ("productivity_index_base", "productivity_index_chain"):
            continue  # 100 by definition in the company's first period
        text = shown[col] = _fmt(kind, v, lang)
        own.append({"label": labels[col], "value": text, "col": col})
    trend_rows = [
        [F.period_label(p, lang), *(_fmt("rupiah", v, lang) for v in vals)]
        for p, *vals in idx.history.get(nib, [])
    ]
    trend_rows.append(
        [period_label, *(shown[c] if c in shown else _fmt("rupiah", get(c), lang) for c in TREND_COLS)]
    )

    basis = str(get("price_basis") or "nominal")
    basis_label = _pick(PRICE_BASIS_LABEL.get(basis, (basis, basis)), lang)
    bench = _programme_benchmarks(idx, row, lang)
    bps = _bps_benchmarks(inp, row, lang, basis_label, idx, shown)

    company_name = str(get("company_name", nib))
    receipt_text = idx.receipt_texts.get(nib, "")
    if not receipt_text and f"{nib}.txt" in idx.receipts:
        # a period whose receipts were written before receipts.parquet existed
        receipt_text = storage.read_text(f"{shared['receipt_dir']}/{nib}.txt")
    receipt_link = ""
    if f"{nib}.html" in idx.receipts:
        receipt_link = (
            f"{shared['receipt_up']}/{nib}.html"
            if nib.isdigit()
            else posixpath.relpath(f"{shared['receipt_dir']}/{nib}.html", company_reports_dir(inp.period))
        )
    return {
        "lang": lang,
        "L": F.MESSAGES[lang],  # labels without placeholders: a lookup, not a call, in 10^5 reports
        # the two labels with placeholders, filled once here rather than called from the template
        "title": F.t("company_report_title", lang, name=company_name),
        "run_date_line": shared["run_date_line"],
        "period": inp.period,
        "period_label": period_label,
        "release_date": release_date,
        "company_name": company_name,
        "nib": nib,
        "synthetic": _row_synthetic(row),
        "own": own,
        "trend_head": list(shared["trend_head"]),
        "trend_rows": trend_rows,
        "first_period": len(trend_rows) == 1,
        "benchmarks": bench,
        "bps": bps,
        "receipt_text": receipt_text,
        "receipt_link": receipt_link,
        "flags": flag_sentences(row, lang),
        "price_basis": basis_label,
    }


def _programme_benchmarks(idx: ReportIndex, row: Row, lang: str) -> list[dict[str, str]]:
    """Published aggregate cells for the company's kab/kota, its PDRB group and all companies."""
    kab, grp = str(row.get("kabkota_code")), str(row.get("pdrb_group"))
    key = ("programme", kab, grp, lang)
    if key not in idx.memo:
        wanted = [
            (("kabkota", kab), kabkota_display_name(kab) if kab in kaltim_kabkota() else kab),
            (("sector", grp), f"{grp} {F.sector_name(grp, lang)}"),
            (("total", ""), "Semua perusahaan peserta" if lang == "id" else "all participating companies"),
        ]  # fmt: skip
        out = []
        # Only published cells (the index holds no other): a suppressed cell is never shown, not even
        # as a hint of its value.
        for cell_key, name in wanted:
            for n_companies, va_per_worker in idx.cells.get(cell_key, []):
                n = F.number(n_companies, 0, lang)
                out.append(
                    {
                        "label": f"{name} ({n} {'perusahaan' if lang == 'id' else 'companies'})",
                        "month": F.rupiah(va_per_worker, 2, lang),
                        "year": F.rupiah(va_per_worker * 12, 2, lang),
                    }
                )
        idx.memo[key] = out
    return [dict(b) for b in idx.memo[key]]


def _bps_benchmarks(
    inp: BulletinInputs,
    row: Row,
    lang: str,
    basis_label: str,
    idx: ReportIndex | None = None,
    shown: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The company's annualised figure beside the BPS/Kemnaker benchmark, each with its price basis.

    With no deflator the company is at current prices and the benchmark at constant 2010 prices: both
    are shown, no ratio (the company stage leaves ``benchmark_ratio`` null and says why).
    """
    items: list[dict[str, str]] = []
    own = row.get("va_per_worker_annualised_idr")
    if not F.is_missing(own):
        items.append(
            {
                "label": ("Perusahaan Anda, nilai tambah per pekerja per tahun" if lang == "id"
                          else "Your company, value added per worker per year"),
                "value": (shown or {}).get("va_per_worker_annualised_idr") or F.rupiah(own, 2, lang),
                "basis": basis_label,
            }
        )  # fmt: skip
    constant = _pick(PRICE_BASIS_LABEL["constant 2010 prices"], lang)
    real = row.get("va_per_worker_annualised_real_million_idr")
    if not F.is_missing(real):
        items.append(
            {
                "label": ("Perusahaan Anda, disetahunkan, harga konstan 2010" if lang == "id"
                          else "Your company, annualised, constant 2010 prices"),
                "value": F.rupiah_million(real, 2, lang),
                "basis": constant,
            }
        )  # fmt: skip
    bench = row.get("benchmark_productivity_million_idr_per_worker")
    if not F.is_missing(bench):
        level = str(row.get("benchmark_level") or "")
        grp = str(row.get("pdrb_group") or "")
        where = _pick(BENCHMARK_LEVEL.get(level, (level, level)), lang).format(
            sector=F.sector_name(grp, lang)
        )
        year = row.get("benchmark_year")
        year_txt = f" {int(year)}" if not F.is_missing(year) else ""
        items.append(
            {
                "label": f"{'Produktivitas pembanding' if lang == 'id' else 'Benchmark productivity'}: {where}{year_txt}",
                "value": F.rupiah_million(bench, 2, lang),
                "basis": _pick(PRICE_BASIS_LABEL.get(str(row.get("benchmark_price_basis") or "constant 2010 prices"),
                                                     (constant, constant)), lang),
            }
        )  # fmt: skip
    memo = idx.memo if idx is not None else {}
    if ("provincial", lang) not in memo:
        memo[("provincial", lang)] = _provincial_item(inp, lang, constant)
    if memo[("provincial", lang)] is not None:
        items.append(dict(memo[("provincial", lang)]))
    ratio = row.get("benchmark_ratio")
    # The stage's note also tells operators how to configure a deflator; the company gets the reason only.
    note = (
        (
            "Rasio terhadap pembanding tidak dihitung karena nilai tambah perusahaan atas dasar harga berlaku, "
            "sedangkan pembanding atas dasar harga konstan 2010. Perbandingan bersifat indikatif: perusahaan "
            "formal dibandingkan dengan seluruh pekerja, termasuk pekerja informal."
            if lang == "id"
            else "No ratio to the benchmark: the company's value added is at current prices and the benchmark at "
            "constant 2010 prices. The comparison is indicative: formal firms against all workers, informal included."
        )
        if F.is_missing(ratio) and not F.is_missing(bench)
        else ""
    )
    source = row.get("benchmark_source")
    return {
        "items": items,
        "ratio": None if F.is_missing(ratio) else F.number(ratio, 2, lang),
        "note": "" if F.is_missing(note) or not note else str(note),
        "source": "" if F.is_missing(source) or not source else str(source),
    }


def _provincial_item(inp: BulletinInputs, lang: str, constant: str) -> dict[str, str] | None:
    """Kaltim's latest BPS productivity: the same line in every company's report."""
    prov = inp.provincial
    if prov is None or prov.empty:
        return None
    k = prov[(prov["region_code"] == KALTIM_PROVINCE_CODE) & prov[PROD].notna()]
    if k.empty:
        return None
    y = int(k["year"].max())
    st = year_statuses(prov)
    return {
        "label": (f"Produktivitas tenaga kerja Kalimantan Timur {F.year_label(y, st.get(y))} (BPS, diolah)"
                  if lang == "id" else
                  f"Labour productivity, East Kalimantan {F.year_label(y, st.get(y))} (BPS, processed)"),
        "value": F.rupiah_million(float(k.set_index("year").loc[y, PROD]), 2, lang),
        "basis": constant,
    }  # fmt: skip


def render_company_report(ctx: dict[str, Any], env: Environment | None = None) -> str:
    return (env or template_env()).get_template("company_report.html.j2").render(**ctx)


def render_company_text(ctx: dict[str, Any], env: Environment | None = None) -> str:
    return (env or template_env()).get_template("company_report.txt.j2").render(**ctx)


REPORTS_FILE = "reports.parquet"  # every company's report of the period (schemas/documents.py)


def company_reports_dir(period: str) -> str:
    return posixpath.join(BULLETINS_DIR, period, "companies")


def company_report_rel(period: str, nib: str) -> str:
    """The report's HTML file (written for periods small enough to browse, tasks/documents.py)."""
    return posixpath.join(company_reports_dir(period), f"{nib}.html")


def read_company_report(storage: Storage, period: str, nib: str) -> str | None:
    """One company's report of a period, from ``reports.parquet`` (or the HTML file of an older run)."""
    from tasks.documents import read_document

    store = posixpath.join(company_reports_dir(period), REPORTS_FILE)
    return read_document(storage, store, "nib", nib, company_report_rel(period, nib))


# --- every company of a period ------------------------------------------------------------------------
REPORT_BATCH = 2_000  # companies per batch: bounds memory (one batch of pages at a time) and feeds 2 workers
POOL_MIN_COMPANIES = 5_000  # below this, worker processes cost more to start than they save


def reports_on_workers(workers: int, companies: int) -> bool:
    """Whether a period's reports render on worker processes (else in this process)."""
    return workers > 1 and companies >= POOL_MIN_COMPANIES


MISSING_EMAIL_LISTED = 20  # NIBs named in the missing-address notice; the rest are counted


@dataclass
class ReportJob:
    """What every worker needs for its batches; each batch carries its companies' rows and history."""

    storage: Storage
    inputs: BulletinInputs  # without the company and submission frames (rows travel with the batches)
    lang: str
    release_date: str
    out_rel: str  # the companies folder being built aside
    index: ReportIndex  # cells and shared pieces; history and receipts travel with the batches
    files: bool = True  # also write <nib>.html (tasks/documents.py); the pages always come back


def _light_inputs(inp: BulletinInputs) -> BulletinInputs:
    return replace(inp, companies=None, submissions=None, quarantine=None, quarantine_reasons=None)


def _batch_index(nibs: list[str], full: ReportIndex) -> ReportIndex:
    """The part of the period's index a batch of companies needs (the shared memo is the worker's own)."""
    names = {f"{n}.{ext}" for n in nibs for ext in ("txt", "html")}
    return ReportIndex(
        period=full.period,
        history={n: full.history[n] for n in nibs if n in full.history},
        cells=full.cells,
        receipts=frozenset(names & full.receipts),
        receipt_texts={n: full.receipt_texts[n] for n in nibs if n in full.receipt_texts},
    )


def frame_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as dicts of Python values, every missing value (NaN, NA, NaT) as ``None``.

    Built column by column: ``to_dict("records")`` boxes Arrow-backed strings one cell at a time, ~12 CPU s
    for a national month's 10^5 companies in the process that feeds the report workers (2 cores). It
    also gives NaN for a missing string and None or NA elsewhere; one ``None`` keeps ``row.get(c) or x``
    and ``F.is_missing`` right for every column.
    """
    cols = list(df.columns)
    values = []
    for c in cols:
        arr = df[c].to_numpy(dtype=object, copy=True)
        missing = df[c].isna().to_numpy()
        if missing.any():
            arr[missing] = None
        values.append(arr.tolist())
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


def company_batches(companies: pd.DataFrame, full: ReportIndex) -> LazyBatches:
    """The period's companies as batches of (their rows, their index), each built when taken.

    The rows stay a frame (pickled as column buffers) until the worker makes them dicts
    (``frame_records``): done here, that was half the CPU of the process feeding 2 workers.
    """

    def make(i: int) -> tuple[pd.DataFrame, ReportIndex]:
        rows = companies.iloc[i * REPORT_BATCH : (i + 1) * REPORT_BATCH]
        return rows, _batch_index(rows["nib"].astype(str).tolist(), full)

    return LazyBatches(-(-len(companies) // REPORT_BATCH), make)


def warm_memo(inp: BulletinInputs, lang: str, idx: ReportIndex) -> None:
    """The line every report shares (Kaltim's BPS productivity), computed once before the workers start."""
    constant = _pick(PRICE_BASIS_LABEL["constant 2010 prices"], lang)
    idx.memo.setdefault(("provincial", lang), _provincial_item(inp, lang, constant))


REPORT_TARGET = "tasks.company_report:render_report_batch"


@lru_cache(maxsize=1)
def _report_template() -> Any:
    """Compiled once per process, not once per batch."""
    return template_env().get_template("company_report.html.j2")


def render_report_batch(job: ReportJob, batch: tuple[pd.DataFrame, ReportIndex]) -> pa.Table:
    """Render one batch of company reports: rows of ``reports.parquet`` in batch order (and the files
    when asked)."""
    from tasks.documents import pages_table
    from tasks.file_batch import write_files

    frame, idx = batch
    rows = frame_records(frame)
    idx.memo = job.index.memo  # per-language pieces are shared across batches of this worker
    tpl = _report_template()
    pages = {}
    for row in rows:
        ctx = build_company_context(job.storage, job.inputs, row, job.lang, job.release_date, idx)
        pages[ctx["nib"]] = tpl.render(**ctx)
    if job.files:
        write_files(job.storage, job.out_rel, {f"{nib}.html": html for nib, html in pages.items()})
    return pages_table(pages, company_reports_schema(), "nib")


@keep_workers()
def write_company_reports(
    storage: Storage,
    inp: BulletinInputs,
    lang: str,
    release_date: str,
    workers: int = 1,
    layout: str = "auto",
) -> dict[str, Any]:
    """Every company's report of the period into ``bulletins/<period>/companies/``, in one folder swap.

    ``reports.parquet`` there holds every report; a period small enough to browse also gets
    ``<nib>.html`` files (``layout``, see tasks/documents.py). Rendered in batches (on ``workers``
    processes for big periods), so memory holds one batch of pages, not the period's. Returns the
    folder's URL, the count and the layout.
    """
    from tasks.documents import DocumentWriter, document_layout

    rel = company_reports_dir(inp.period)
    companies = inp.companies
    if companies is None or companies.empty:
        return {"folder": None, "reports": 0, "layout": None}
    pooled = reports_on_workers(workers, len(companies))
    if pooled:
        prestart(workers, REPORT_TARGET)  # while this process indexes the period
    full = report_index(storage, inp)
    warm_memo(inp, lang, full)
    chosen = document_layout(layout, len(companies))
    schema = company_reports_schema()
    schema = schema.with_metadata(
        {**(schema.metadata or {}), b"period": inp.period.encode(), b"lang": lang.encode(),
         b"release_date": release_date.encode()}
    )  # fmt: skip
    n = 0

    def build(tmp: str) -> None:
        nonlocal n
        shared = ReportIndex(period=inp.period, cells=full.cells, memo=full.memo)
        job = ReportJob(storage, _light_inputs(inp), lang, release_date, tmp, shared, chosen == "files")
        use = workers if pooled else 1
        batches = company_batches(companies, full)
        with DocumentWriter(storage, posixpath.join(tmp, REPORTS_FILE), schema) as out:
            for table in map_batches(REPORT_TARGET, job, batches, use):
                out.write(table)
        n = out.count

    storage.replace_dir(rel, build)
    return {"folder": storage.url(rel) + "/", "reports": n, "layout": chosen}


def report_addresses(inp: BulletinInputs) -> tuple[dict[str, str], list[str]]:
    """NIB -> contact e-mail of every company with a report, and a notice for those without one."""
    companies = inp.companies
    if companies is None or companies.empty:
        return {}, []
    nibs = companies["nib"].astype(str)
    if "contact_email" in companies.columns:
        email = companies["contact_email"].astype("string")
    else:
        email = pd.Series(pd.NA, index=companies.index, dtype="string")
    subs = inp.submissions
    if subs is not None and {"nib", "contact_email"} <= set(subs.columns):
        # a company's last submitted row gives its address (mapped by index, not a dict of 10^5)
        last = subs[["nib", "contact_email"]].astype({"nib": str}).drop_duplicates("nib", keep="last")
        by_nib = pd.Series(last["contact_email"].astype("string").to_numpy(), index=last["nib"].to_numpy())
        email = email.where(email.notna() & (email.str.strip() != ""), nibs.map(by_nib).astype("string"))
    ok = email.notna() & (email.str.strip() != "")
    missing = nibs[~ok].tolist()
    notices = []
    if missing:
        named = ", ".join(missing[:MISSING_EMAIL_LISTED])
        more = (
            f" dan {len(missing) - MISSING_EMAIL_LISTED} lainnya"
            if len(missing) > MISSING_EMAIL_LISTED
            else ""
        )
        notices.append(
            f"Laporan perusahaan periode {inp.period} untuk {len(missing)} perusahaan tidak dikirim karena kolom "
            f"contact_email kosong (NIB {named}{more}). Minta perusahaan mengisi alamat e-mail pada kiriman "
            "berikutnya."
        )
    return dict(zip(nibs[ok].tolist(), email[ok].tolist(), strict=True)), notices


def company_messages(
    storage: Storage, inp: BulletinInputs, lang: str, release_date: str, addresses: Mapping[str, str]
) -> Iterator[Any]:
    """One ``Outgoing`` per company with an address, built when the delivery takes it (never all at once).

    The HTML part and the attachment are the report written by ``write_company_reports`` (read from
    ``reports.parquet`` a batch at a time, in the order it was written); the text part is rendered
    from the same context.
    """
    from tasks.documents import REPORT_NAME, iter_documents
    from tasks.mailer import Outgoing, inline_css

    companies = inp.companies
    if companies is None or companies.empty or not addresses:
        return
    full = report_index(storage, inp)
    env = template_env()
    text_t = env.get_template("company_report.txt.j2")
    subject = F.t("company_report_subject", lang, period=F.period_label(inp.period, lang))
    store = posixpath.join(company_reports_dir(inp.period), REPORTS_FILE)
    stored = iter_documents(storage, store, "nib", REPORT_BATCH) if storage.exists(store) else iter(())
    for frame, idx in company_batches(companies, full):
        rows = frame_records(frame)
        idx.memo = full.memo
        written = next(stored, {})
        for row in rows:
            nib = str(row["nib"])
            if nib not in addresses:
                continue
            ctx = build_company_context(storage, inp, row, lang, release_date, idx)
            html = written.get(nib) or read_company_report(storage, inp.period, nib)
            if html is None:
                raise FileNotFoundError(
                    f"The report of NIB {nib} for {inp.period} is not in {storage.url(store)}: render the "
                    f"period again (produktivitas bulletin --period {inp.period}) before delivering."
                )
            yield Outgoing(
                # one message per company: two companies may share a contact address
                kind=f"company_report-{nib}",
                recipient=addresses[nib],
                recipient_name=ctx["company_name"],
                subject=subject,
                text=text_t.render(**ctx),
                html=inline_css(html),
                attachments=[(REPORT_NAME.format(key=nib, period=inp.period), html.encode(), "text/html")],
            )
