"""Sector benchmarks for company labour productivity (METHOD.md §2 #20, §3.4).

Each company's annualised value added per worker is set beside the productivity of its sector, like
with like, in this order of preference:

1. provincial by sector: Kaltim PDRB at constant 2010 prices by lapangan usaha / employed persons by
   sector (Sakernas August), when both tables are configured (the PDRB-by-sector table is not bundled);
2. Kemnaker's national figure for the sector (``raw/reference/kemnaker_productivity_by_sector_national_2022.csv``);
3. the provincial total (``processed/indicators/provincial_productivity.parquet``, region "64", latest year).

Benchmarks are at constant 2010 prices, so a ratio needs the company's VA deflated to 2010 prices; without
a deflator both figures are given with their price basis and the ratio is null with the reason. Every ratio
is indicative: formal medium-sized firms against a whole economy that includes informal work.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from schemas.company import PRICE_BASIS_CONSTANT_2010

LEVEL_PROVINCIAL_SECTOR = "provincial sector"
LEVEL_NATIONAL_SECTOR = "national sector"
LEVEL_PROVINCIAL_TOTAL = "provincial total"
KALTIM = "64"

NOTE_INDICATIVE = (
    "Indicative: formal medium-sized firms compared with the whole sector, which includes informal work "
    "(METHOD.md 3.4)."
)
NOTE_INDICATIVE_ID = "Indikatif: perusahaan menengah formal dibandingkan dengan seluruh sektor yang juga mencakup pekerja informal."
NOTE_NO_DEFLATOR = (
    "No ratio: the company's value added is at current prices and the benchmark at constant 2010 prices; "
    "configure a deflator table (setting deflator_table) covering this sector and period."
)
NOTE_NO_DEFLATOR_ID = (
    "Rasio tidak dihitung: nilai tambah perusahaan atas dasar harga berlaku, sedangkan pembanding atas dasar "
    "harga konstan 2010; atur tabel deflator (deflator_table) untuk sektor dan periode ini."
)
NOTE_NO_BENCHMARK = "No ratio: no benchmark is available for this sector."
NOTE_NO_BENCHMARK_ID = "Rasio tidak dihitung: tidak ada angka pembanding untuk sektor ini."
NOTE_NO_COMPANY_FIGURE = "No ratio: value added per worker is not defined (0 workers or missing input)."
NOTE_NO_COMPANY_FIGURE_ID = (
    "Rasio tidak dihitung: nilai tambah per pekerja tidak terdefinisi (pekerja nol atau data wajib kosong)."
)

_BENCH_COLS = ["pdrb_group", "year", "productivity_million_idr_per_worker", "source"]


def normalise_sector_code(codes: pd.Series) -> pd.Series:
    """Source sector codes to PDRB groups: merged codes "M,N" -> "M-N", "R,S,T,U" -> "R-U"."""
    c = codes.astype("str").str.replace(" ", "", regex=False).str.upper()
    return c.replace({"M,N": "M-N", "M+N": "M-N", "R,S,T,U": "R-U", "R-S-T-U": "R-U", "R+S+T+U": "R-U"})


def national_sector_benchmark(csv_text: str) -> pd.DataFrame:
    """Kemnaker's national productivity by sector (CSV with sector_code, year,
    productivity_million_idr_per_worker, source_url) as benchmark rows by PDRB group."""
    raw = pd.read_csv(io.StringIO(csv_text), dtype={"sector_code": str})
    out = pd.DataFrame(
        {
            "pdrb_group": normalise_sector_code(raw["sector_code"]),
            "year": raw["year"].astype("int64"),
            "productivity_million_idr_per_worker": raw["productivity_million_idr_per_worker"].astype(
                "float64"
            ),
            "source": "Kemnaker, national labour productivity by sector (PDB ADHK 2010 / employed), via "
            + raw["source_url"].astype("str"),
        }
    )
    return out[_BENCH_COLS]


def provincial_sector_benchmark(
    pdrb_by_sector: pd.DataFrame, employed_by_sector: pd.DataFrame
) -> pd.DataFrame:
    """Kaltim productivity by PDRB group = PDRB ADHK 2010 (billion IDR) x 1000 / employed persons.

    ``pdrb_by_sector``: year, sector_code, pdrb_adhk_billion_idr[, source]; ``employed_by_sector``: year,
    sector_code, employed_persons[, source] (e.g. the Sakernas August table by 17 groups). Only years and
    groups present in both are used; "TOTAL" rows are ignored.
    """
    p = pdrb_by_sector.assign(pdrb_group=normalise_sector_code(pdrb_by_sector["sector_code"]))
    e = employed_by_sector.assign(pdrb_group=normalise_sector_code(employed_by_sector["sector_code"]))
    p = p[p["pdrb_group"] != "TOTAL"]
    e = e[e["pdrb_group"] != "TOTAL"]
    p = p.assign(
        year=p["year"].astype("int64"), pdrb_src=p.get("source", pd.Series("PDRB table", index=p.index))
    )
    e = e.assign(
        year=e["year"].astype("int64"), emp_src=e.get("source", pd.Series("employment table", index=e.index))
    )
    m = p[["pdrb_group", "year", "pdrb_adhk_billion_idr", "pdrb_src"]].merge(
        e[["pdrb_group", "year", "employed_persons", "emp_src"]], on=["pdrb_group", "year"], how="inner"
    )
    emp = m["employed_persons"].astype("float64")
    prod = m["pdrb_adhk_billion_idr"].astype("float64") * 1000.0 / emp.where(emp > 0)
    out = pd.DataFrame(
        {
            "pdrb_group": m["pdrb_group"],
            "year": m["year"],
            "productivity_million_idr_per_worker": prod,
            "source": "Kalimantan Timur PDRB ADHK 2010 by sector (" + m["pdrb_src"].astype("str")
            + ") / employed persons by sector (" + m["emp_src"].astype("str") + ")",
        }
    )  # fmt: skip
    return out[out["productivity_million_idr_per_worker"].notna()][_BENCH_COLS].reset_index(drop=True)


def provincial_total_benchmark(provincial: pd.DataFrame, region_code: str = KALTIM) -> pd.DataFrame:
    """The province's total productivity (all years with a value) from provincial_productivity.parquet,
    as benchmark rows with pdrb_group "*"."""
    rows = provincial[(provincial["region_code"].astype("str") == region_code)].copy()
    rows = rows[rows["productivity_million_idr_per_worker"].notna()]
    src = "Kalimantan Timur total: PDRB ADHK 2010 / employed persons (processed/indicators/provincial_productivity.parquet"
    if "grdp_source" in rows.columns:
        src_col = src + "; PDRB: " + rows["grdp_source"].astype("str") + ")"
    else:
        src_col = pd.Series(src + ")", index=rows.index)
    out = pd.DataFrame(
        {
            "pdrb_group": "*",
            "year": rows["year"].astype("int64"),
            "productivity_million_idr_per_worker": rows["productivity_million_idr_per_worker"].astype(
                "float64"
            ),
            "source": src_col,
        }
    )
    return out[_BENCH_COLS].reset_index(drop=True)


def _pick_year(bench: pd.DataFrame, year: int) -> pd.DataFrame:
    """One row per group: the latest year not after ``year``, else the earliest later one."""
    if bench is None or bench.empty:
        return pd.DataFrame(columns=_BENCH_COLS)
    b = bench.assign(_after=(bench["year"] > year).astype("int64"), _dist=(bench["year"] - year).abs())
    b = b.sort_values(["pdrb_group", "_after", "_dist"], kind="stable")
    return b.drop_duplicates("pdrb_group")[_BENCH_COLS]


def attach_benchmarks(
    indicators: pd.DataFrame,
    provincial_sector: pd.DataFrame | None = None,
    national_sector: pd.DataFrame | None = None,
    provincial_total: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add the benchmark columns to company indicators (one benchmark per row, the best available)."""
    out = indicators.copy()
    n = len(out)
    value = np.full(n, np.nan)
    level = np.full(n, None, dtype=object)
    source = np.full(n, None, dtype=object)
    year_col = np.full(n, np.nan)
    years = out["period"].str[:4].astype("int64") if n else pd.Series([], dtype="int64")
    for y in sorted(set(years.tolist())):
        in_year = (years == y).to_numpy()
        for lvl, bench, key in (
            (LEVEL_PROVINCIAL_SECTOR, provincial_sector, "pdrb_group"),
            (LEVEL_NATIONAL_SECTOR, national_sector, "pdrb_group"),
            (LEVEL_PROVINCIAL_TOTAL, provincial_total, None),
        ):
            picked = _pick_year(bench, y) if bench is not None else pd.DataFrame(columns=_BENCH_COLS)
            if picked.empty:
                continue
            keys = out["pdrb_group"] if key else pd.Series("*", index=out.index)
            found = picked.set_index("pdrb_group").reindex(keys.to_numpy())
            take = in_year & np.isnan(value) & found["productivity_million_idr_per_worker"].notna().to_numpy()
            value[take] = found["productivity_million_idr_per_worker"].to_numpy(dtype="float64")[take]
            year_col[take] = found["year"].to_numpy(dtype="float64")[take]
            level[take] = lvl
            source[take] = found["source"].to_numpy()[take]

    out["benchmark_productivity_million_idr_per_worker"] = value
    out["benchmark_level"] = level
    out["benchmark_source"] = source
    out["benchmark_year"] = pd.array(np.where(np.isnan(year_col), None, year_col), dtype="Int32")
    out["benchmark_price_basis"] = np.where(pd.isna(value), None, PRICE_BASIS_CONSTANT_2010)

    real = (out["price_basis"] == PRICE_BASIS_CONSTANT_2010) & out["value_added_real_idr"].notna()
    workers = out["workers_avg_total"].astype("float64")
    company = (out["value_added_real_idr"].astype("float64") * 12.0 / workers.where(workers > 0) / 1e6).where(
        real
    )
    out["va_per_worker_annualised_real_million_idr"] = company
    bench = out["benchmark_productivity_million_idr_per_worker"]
    out["benchmark_ratio"] = (company / bench.where(bench > 0)).where(company.notna())

    has_bench = bench.notna()
    has_company_nominal = out["va_per_worker_idr"].notna()
    # The first reason that applies, as an index into the four possible notes per language (picked in
    # C: building 10^5 note strings row by row was a third of a national month's company stage).
    which = np.select([~has_bench, ~has_company_nominal, ~real], [1, 2, 3], default=0)
    for col, reasons, indicative in (
        ("benchmark_note", (NOTE_NO_BENCHMARK, NOTE_NO_COMPANY_FIGURE, NOTE_NO_DEFLATOR), NOTE_INDICATIVE),
        ("benchmark_note_id", (NOTE_NO_BENCHMARK_ID, NOTE_NO_COMPANY_FIGURE_ID, NOTE_NO_DEFLATOR_ID),
         NOTE_INDICATIVE_ID),
    ):  # fmt: skip
        notes = np.array([indicative, *(f"{r} {indicative}" for r in reasons)], dtype=object)
        out[col] = pd.Series(notes[which], index=out.index, dtype="str")
    return out
