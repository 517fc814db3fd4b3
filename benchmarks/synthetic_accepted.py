"""Synthetic accepted-submission Parquet at national scale, made directly in the accepted schema.

For the "national year of compute" scenario: 12 months x 10^5 companies = 1.2 M company-month rows,
generated vectorised with numpy (no files per company) and written one Hive partition per month
through the project's Parquet writer. Every company is labelled synthetic ("(SINTETIS)" in the name,
``source_file`` = "SINTETIS-benchmark"). Kab/kota codes are synthetic too: the 38 real 2-digit province
codes followed by a made-up 2-digit number, because no national kab/kota list is bundled.
The money figures are plausible orders of magnitude only; they are not statistics of anything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from schemas.codes import (
    KALTIM_PROVINCE_CODE,
    division_to_section,
    kaltim_kabkota,
    pdrb_group_code,
    provinces,
)

SYNTHETIC_SOURCE = "SINTETIS-benchmark"
# Sales per worker per month (rupiah), rough order of magnitude by section, to make sectors differ.
_SALES_PER_WORKER = {"A": 40e6, "B": 250e6, "C": 90e6, "F": 60e6, "G": 120e6, "H": 70e6, "I": 30e6}
_DEFAULT_SALES_PER_WORKER = 50e6


def national_kabkota_codes(n_kabkota: int = 514) -> np.ndarray:
    """``n_kabkota`` codes spread over all 38 provinces; Kaltim keeps its 10 real codes."""
    provs = sorted(provinces())
    kaltim = sorted(kaltim_kabkota())
    per_prov = max(1, (n_kabkota - len(kaltim)) // max(1, len(provs) - 1))
    codes: list[str] = []
    for p in provs:
        if p == KALTIM_PROVINCE_CODE:
            codes += kaltim
        else:
            codes += [f"{p}{k:02d}" for k in range(1, per_prov + 1)]
    return np.array(codes[: max(n_kabkota, len(kaltim))], dtype=object)


def companies(n: int, seed: int, n_kabkota: int = 514) -> pd.DataFrame:
    """The fixed attributes of ``n`` synthetic companies (NIB, name, KBLI, kab/kota, size)."""
    rng = np.random.default_rng(seed)
    divisions = np.array(sorted(division_to_section()), dtype=object)
    div = divisions[rng.integers(0, len(divisions), n)]
    kbli = pd.Series(div).str.cat(pd.Series(rng.integers(0, 1000, n)).astype(str).str.zfill(3))
    section = pd.Series(div).map(division_to_section())
    idx = pd.Series(np.arange(n)).astype(str)
    codes = national_kabkota_codes(n_kabkota)
    return pd.DataFrame(
        {
            "nib": ("9" + idx.str.zfill(12)).astype(str),
            "company_name": ("PT Contoh " + idx + " (SINTETIS)").astype(str),
            "kbli_code": kbli.astype(str),
            "kbli_section": section.astype(str),
            "pdrb_group": section.map(pdrb_group_code).astype(str),
            # skewed towards a few big regencies, as firms are
            "kabkota_code": pd.Series(codes[np.minimum(rng.zipf(1.3, n) - 1, len(codes) - 1)]).astype(str),
            "workers": np.round(np.exp(rng.normal(4.3, 0.9, n)).clip(20, 20000)),
            "sales_per_worker": section.map(_SALES_PER_WORKER).fillna(_DEFAULT_SALES_PER_WORKER).to_numpy()
            * np.exp(rng.normal(0, 0.5, n)),
            "fixed_assets": np.exp(rng.normal(22, 1.2, n)),
        }
    )


def month_rows(firms: pd.DataFrame, period: str, seed: int) -> pd.DataFrame:
    """One accepted row per company for ``period``, with month-to-month noise."""
    rng = np.random.default_rng([seed, int(period.replace("-", ""))])
    n = len(firms)
    workers = np.maximum(1.0, np.round(firms["workers"].to_numpy() * rng.normal(1, 0.03, n)))
    sales = np.round(workers * firms["sales_per_worker"].to_numpy() * rng.normal(1, 0.08, n))
    raw = np.round(sales * rng.uniform(0.25, 0.55, n))
    energy = np.round(sales * rng.uniform(0.02, 0.08, n))
    services = np.round(sales * rng.uniform(0.05, 0.15, n))
    is_trade = (firms["kbli_section"] == "G").to_numpy()
    resale = np.where(is_trade, np.round(sales * rng.uniform(0.2, 0.4, n)), 0.0)
    wages = np.round(workers * rng.uniform(3.5e6, 12e6, n))
    pkwt = np.floor(workers * rng.uniform(0.0, 0.3, n))
    outsourced = np.floor(workers * rng.uniform(0.0, 0.1, n))
    fa_open = np.round(firms["fixed_assets"].to_numpy())
    fa_close = np.round(fa_open * rng.normal(1.0, 0.02, n))
    hours_normal = np.round(workers * rng.uniform(160, 176, n))
    i64 = lambda a: a.astype("int64")  # noqa: E731
    return pd.DataFrame(
        {
            "nib": firms["nib"],
            "company_name": firms["company_name"],
            "kbli_code": firms["kbli_code"],
            "kbli_section": firms["kbli_section"],
            "pdrb_group": firms["pdrb_group"],
            "kabkota_code": firms["kabkota_code"],
            "contact_email": None,
            "period": period,
            "submitted_on": pd.Timestamp(period + "-01") + pd.DateOffset(months=1, days=4),
            "net_sales": i64(sales),
            "other_operating_income": i64(np.round(sales * rng.uniform(0, 0.02, n))),
            "chg_inventory_fg_wip": i64(np.round(sales * rng.normal(0, 0.02, n))),
            "purch_raw_materials": i64(raw),
            "purch_energy": i64(energy),
            "purch_services": i64(services),
            "purch_goods_for_resale": i64(resale),
            "wages_salaries": i64(wages),
            "employer_social_contrib": i64(np.round(wages * 0.1)),
            "other_benefits": i64(np.round(wages * rng.uniform(0, 0.08, n))),
            "workers_avg_total": workers,
            "workers_pkwtt": workers - pkwt - outsourced,
            "workers_pkwt": pkwt,
            "workers_outsourced": outsourced,
            "workers_unpaid": np.zeros(n),
            "workers_female": np.floor(workers * rng.uniform(0.1, 0.5, n)),
            "hours_normal": hours_normal,
            "hours_overtime": np.round(workers * rng.uniform(0, 20, n)),
            "fixed_assets_nbv_open": i64(fa_open),
            "fixed_assets_nbv_close": i64(fa_close),
            "depreciation": i64(np.round(fa_open * 0.008)),
            "capex": i64(np.round(fa_open * rng.uniform(0, 0.01, n))),
            "source_file": SYNTHETIC_SOURCE,
            "source_sheet": None,
            "source_row": np.arange(2, n + 2, dtype="int64"),
            "file_sha256": "0" * 64,
        }
    )


def to_accepted_table(df: pd.DataFrame, schema: pa.Schema | None) -> pa.Table:
    """Cast to the project's accepted schema when it exists; columns it has and we lack become nulls."""
    if schema is None:
        return pa.Table.from_pandas(df, preserve_index=False)
    n = len(df)
    cols = []
    for f in schema:
        if f.name in df.columns:
            arr = pa.array(df[f.name], from_pandas=True)
            if pa.types.is_null(arr.type) or arr.type != f.type:
                arr = arr.cast(f.type) if not pa.types.is_null(arr.type) else pa.nulls(n, f.type)
        elif pa.types.is_boolean(f.type):
            arr = pa.array(np.zeros(n, dtype=bool))  # soft flags: none raised in clean synthetic data
        elif pa.types.is_string(f.type) and not f.nullable:
            arr = pa.array([""] * n, pa.string())  # e.g. the joined soft-flag codes: empty when none
        else:
            arr = pa.nulls(n, f.type)
        cols.append(arr)
    return pa.Table.from_arrays(cols, schema=schema)


def accepted_schema() -> pa.Schema | None:
    """The accepted-rows schema of the submissions stage, when that module exists."""
    try:
        import schemas.submission_outputs as so
    except ImportError:
        return None
    for name in ("ACCEPTED_SCHEMA", "accepted_schema"):
        obj = getattr(so, name, None)
        if isinstance(obj, pa.Schema):
            return obj
        if callable(obj):
            return obj()
    return None


def periods_of_year(year: int, months: int = 12) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, months + 1)]
