"""A second, independent implementation of the company indicators and the primary disclosure rules in DuckDB SQL.

It reads the same accepted-submission Parquet as the pipeline (``processed/submissions/period=*/``)
and serves two purposes: a speed yardstick (the pandas code should stay within 2x of it) and a check
of the numbers (the same columns must agree within a tolerance, and the same aggregate cells must be
suppressed by the primary rules: fewer than ``min_companies`` companies, or the p% rule on a magnitude).

Definitions follow METHOD.md §2/§4 as issue 4 fixes them:
- VA = net_sales + other_operating_income + chg_inventory_fg_wip - purch_raw_materials - purch_energy
  - purch_services - purch_goods_for_resale (optional items missing count as 0),
- LC = wages_salaries + employer_social_contrib + other_benefits, hours = hours_normal + hours_overtime,
- every ratio is NULL when its denominator is 0 or missing (never inf),
- aggregate ratios are ratios of cell totals; a company counts once per cell (rows combined by NIB first),
- p% rule: a cell is unsafe for a magnitude when X - x1 - x2 < p/100 * x1, on absolute contributions.
Secondary suppression is not reimplemented here (it is an iterative search, not a query); the
comparison therefore checks the primary pattern: every cell SQL suppresses must be suppressed by the
pipeline, and every cell the pipeline suppresses for a primary reason must be one SQL suppresses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

COMPANY_SQL = """
CREATE OR REPLACE TEMP VIEW company AS
WITH base AS (
    SELECT
        nib, period, kabkota_code, pdrb_group, kbli_section,
        CAST(net_sales AS DOUBLE) AS net_sales_idr,
        CAST(net_sales AS DOUBLE) + coalesce(other_operating_income, 0) + coalesce(chg_inventory_fg_wip, 0)
          - purch_raw_materials - purch_energy - purch_services - coalesce(purch_goods_for_resale, 0)
          AS value_added_idr,
        CAST(wages_salaries AS DOUBLE) + employer_social_contrib + coalesce(other_benefits, 0) AS labour_cost_idr,
        workers_avg_total,
        hours_normal + hours_overtime AS hours_worked,
        (CAST(fixed_assets_nbv_open AS DOUBLE) + fixed_assets_nbv_close) / 2 AS fixed_assets_avg_idr
    FROM read_parquet($input, hive_partitioning = true, union_by_name = true)
), panel AS (   -- VA per worker by company and month, for the indices (nominal: no deflator configured)
    SELECT nib, period, sum(value_added_idr) / nullif(sum(workers_avg_total), 0) AS p
    FROM base GROUP BY nib, period
), idx AS (
    SELECT nib, period,
        CASE WHEN p > 0 AND prev_p > 0 AND prev_period = strftime(strptime(period || '-01', '%Y-%m-%d')
                  - INTERVAL 1 MONTH, '%Y-%m') THEN 100 * p / prev_p END AS productivity_index_prev,
        CASE WHEN p > 0 AND base_p > 0 THEN 100 * p / base_p END AS productivity_index_base
    FROM (
        SELECT *, lag(p) OVER w AS prev_p, lag(period) OVER w AS prev_period, first(p) OVER w AS base_p
        FROM panel WINDOW w AS (PARTITION BY nib ORDER BY period)
    )
)
SELECT b.*,
    value_added_idr / nullif(workers_avg_total, 0) AS va_per_worker_idr,
    12 * value_added_idr / nullif(workers_avg_total, 0) AS va_per_worker_annualised_idr,
    value_added_idr / nullif(hours_worked, 0) AS va_per_hour_idr,
    labour_cost_idr / nullif(workers_avg_total, 0) AS labour_cost_per_worker_idr,
    value_added_idr / nullif(labour_cost_idr, 0) AS labour_cost_competitiveness,
    CASE WHEN value_added_idr > 0 THEN 100 * labour_cost_idr / value_added_idr END AS labour_share_pct,
    100 * value_added_idr / nullif(net_sales_idr, 0) AS va_ratio_pct,
    12 * value_added_idr / nullif(fixed_assets_avg_idr, 0) AS capital_productivity_annualised,
    fixed_assets_avg_idr / nullif(workers_avg_total, 0) AS capital_intensity_idr_per_worker,
    value_added_idr < 0 AS flag_negative_va,
    idx.productivity_index_prev, idx.productivity_index_base
FROM base b JOIN idx USING (nib, period)
"""

# Magnitudes summed in every aggregate cell; VA is tested on absolute contributions (it can be negative).
MAGNITUDES = {
    "value_added_idr": "abs(value_added_idr)",
    "labour_cost_idr": "labour_cost_idr",
    "net_sales_idr": "net_sales_idr",
    "workers_avg_total": "workers_avg_total",
    "hours_worked": "hours_worked",
    "fixed_assets_avg_idr": "fixed_assets_avg_idr",
}

AGGREGATE_SQL = """
CREATE OR REPLACE TEMP VIEW aggregates AS
WITH contrib AS (   -- one contributor per NIB and cell
    SELECT period, kabkota_code, pdrb_group, nib,
        sum(value_added_idr) AS value_added_idr, sum(labour_cost_idr) AS labour_cost_idr,
        sum(net_sales_idr) AS net_sales_idr, sum(workers_avg_total) AS workers_avg_total,
        sum(hours_worked) AS hours_worked, sum(fixed_assets_avg_idr) AS fixed_assets_avg_idr
    FROM company GROUP BY ALL
), cells AS (
    SELECT period,
        CASE WHEN grouping(kabkota_code) = 0 AND grouping(pdrb_group) = 0 THEN 'kabkota_x_sector'
             WHEN grouping(kabkota_code) = 0 THEN 'kabkota'
             WHEN grouping(pdrb_group) = 0 THEN 'sector' ELSE 'total' END AS level,
        kabkota_code, pdrb_group,
        count(DISTINCT nib) AS n_companies,
        sum(value_added_idr) AS value_added_idr, sum(labour_cost_idr) AS labour_cost_idr,
        sum(net_sales_idr) AS net_sales_idr, sum(workers_avg_total) AS workers_avg_total,
        sum(hours_worked) AS hours_worked, sum(fixed_assets_avg_idr) AS fixed_assets_avg_idr,
        {magnitude_cols}
    FROM contrib
    GROUP BY GROUPING SETS ((period, kabkota_code, pdrb_group), (period, kabkota_code),
                            (period, pdrb_group), (period))
)
SELECT *,
    n_companies < $min_companies AS unsafe_min_companies,
    {unsafe_cols},
    value_added_idr / nullif(workers_avg_total, 0) AS va_per_worker_idr,
    12 * value_added_idr / nullif(workers_avg_total, 0) AS va_per_worker_annualised_idr,
    value_added_idr / nullif(hours_worked, 0) AS va_per_hour_idr,
    labour_cost_idr / nullif(workers_avg_total, 0) AS labour_cost_per_worker_idr,
    value_added_idr / nullif(labour_cost_idr, 0) AS labour_cost_competitiveness,
    CASE WHEN value_added_idr > 0 THEN 100 * labour_cost_idr / value_added_idr END AS labour_share_pct,
    100 * value_added_idr / nullif(net_sales_idr, 0) AS va_ratio_pct,
    12 * value_added_idr / nullif(fixed_assets_avg_idr, 0) AS capital_productivity_annualised,
    fixed_assets_avg_idr / nullif(workers_avg_total, 0) AS capital_intensity_idr_per_worker
FROM cells
"""


def _aggregate_sql() -> str:
    mag = []
    unsafe = []
    for name, expr in MAGNITUDES.items():
        mag.append(
            f"sum({expr}) AS x_{name}, max({expr}, 2) AS top2_{name}"
        )  # DuckDB's max(x, n): the n largest values, descending
        unsafe.append(
            f"coalesce(x_{name} - top2_{name}[1] - coalesce(top2_{name}[2], 0) < $p / 100.0 * top2_{name}[1], false)"
            f" AS unsafe_p_{name}"
        )
    return AGGREGATE_SQL.format(magnitude_cols=",\n        ".join(mag), unsafe_cols=",\n    ".join(unsafe))


@dataclass
class ReferenceResult:
    company: pd.DataFrame
    aggregates: pd.DataFrame
    seconds: float
    seconds_company: float
    seconds_aggregates: float
    threads: int


def run_reference(
    input_glob: str, min_companies: int = 3, p_percent: float = 10.0, threads: int | None = None
) -> ReferenceResult:
    """Compute company indicators and primary-suppressed aggregates from accepted Parquet (``input_glob``)."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    used_threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])
    t0 = time.perf_counter()
    con.execute(COMPANY_SQL.replace("$input", "'" + input_glob.replace("'", "''") + "'"))
    # Materialise once: both the company output and the aggregates read it.
    con.execute("CREATE OR REPLACE TEMP TABLE company_t AS SELECT * FROM company")
    company = con.execute("SELECT * FROM company_t ORDER BY period, nib").df()
    t1 = time.perf_counter()
    sql = _aggregate_sql().replace("FROM company GROUP BY ALL", "FROM company_t GROUP BY ALL")
    con.execute(sql.replace("$min_companies", str(int(min_companies))).replace("$p", repr(float(p_percent))))
    agg = con.execute(
        "SELECT * EXCLUDE (" + ", ".join(f"top2_{m}" for m in MAGNITUDES) + ") FROM aggregates"
        " ORDER BY period, level, kabkota_code NULLS FIRST, pdrb_group NULLS FIRST"
    ).df()
    t2 = time.perf_counter()
    unsafe_p = [c for c in agg.columns if c.startswith("unsafe_p_")]
    agg["primary_suppressed"] = agg["unsafe_min_companies"] | agg[unsafe_p].any(axis=1)
    con.close()
    return ReferenceResult(company, agg, t2 - t0, t1 - t0, t2 - t1, used_threads)


# --- comparison with the pipeline's outputs ------------------------------------------------------


@dataclass
class Comparison:
    ok: bool
    checked_columns: list[str] = field(default_factory=list)
    mismatches: dict[str, int] = field(default_factory=dict)
    rows_compared: int = 0
    cells_compared: int = 0
    suppression: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked_columns": self.checked_columns,
            "mismatches": self.mismatches,
            "rows_compared": self.rows_compared,
            "cells_compared": self.cells_compared,
            "suppression": self.suppression,
            "notes": self.notes,
        }


COMPANY_COLUMNS = (
    "value_added_idr",
    "labour_cost_idr",
    "va_per_worker_idr",
    "va_per_worker_annualised_idr",
    "va_per_hour_idr",
    "labour_cost_per_worker_idr",
    "labour_cost_competitiveness",
    "labour_share_pct",
    "va_ratio_pct",
    "capital_productivity_annualised",
    "capital_intensity_idr_per_worker",
    "flag_negative_va",
    "productivity_index_prev",
    "productivity_index_base",
)


def _close(a: pd.Series, b: pd.Series, rtol: float) -> np.ndarray:
    if a.dtype == bool or str(a.dtype) == "boolean" or b.dtype == bool:
        return (a.astype("boolean").fillna(False) == b.astype("boolean").fillna(False)).to_numpy()
    x = pd.to_numeric(a, errors="coerce").astype("float64").to_numpy()
    y = pd.to_numeric(b, errors="coerce").astype("float64").to_numpy()
    both_null = np.isnan(x) & np.isnan(y)
    return both_null | np.isclose(x, y, rtol=rtol, atol=1e-6)


def compare_company(
    pipeline: pd.DataFrame,
    reference: pd.DataFrame,
    rtol: float = 1e-9,
    columns: tuple[str, ...] = COMPANY_COLUMNS,
) -> Comparison:
    """Join on (period, nib) and compare each column both sides have."""
    cmp = Comparison(ok=True)
    keys = ["period", "nib"]
    if "period" not in pipeline.columns:
        keys = ["nib"]
    m = pipeline.merge(reference, on=keys, how="outer", suffixes=("_p", "_r"), indicator=True)
    only = m["_merge"].value_counts()
    if only.get("left_only", 0) or only.get("right_only", 0):
        cmp.ok = False
        cmp.notes.append(
            f"rows only in pipeline: {int(only.get('left_only', 0))}, only in DuckDB: {int(only.get('right_only', 0))}"
        )
    both = m[m["_merge"] == "both"]
    cmp.rows_compared = len(both)
    for col in columns:
        if f"{col}_p" not in both.columns:
            cmp.notes.append(f"company column {col} not in the pipeline output: not compared")
            continue
        bad = int((~_close(both[f"{col}_p"], both[f"{col}_r"], rtol)).sum())
        cmp.checked_columns.append(col)
        if bad:
            cmp.mismatches[col] = bad
            cmp.ok = False
    return cmp


AGGREGATE_COLUMNS = (
    "n_companies",
    "value_added_idr",
    "labour_cost_idr",
    "net_sales_idr",
    "workers_avg_total",
    "hours_worked",
    "fixed_assets_avg_idr",
    "va_per_worker_idr",
    "va_per_worker_annualised_idr",
    "va_per_hour_idr",
    "labour_cost_per_worker_idr",
    "labour_cost_competitiveness",
    "labour_share_pct",
    "va_ratio_pct",
    "capital_productivity_annualised",
    "capital_intensity_idr_per_worker",
)
PRIMARY_REASON_PATTERNS = ("fewer than", "p% rule", "p%")


def compare_aggregates(pipeline: pd.DataFrame, reference: pd.DataFrame, rtol: float = 1e-9) -> Comparison:
    """Compare published values of every cell and the primary suppression pattern.

    Pipeline value columns are null in suppressed cells, so values are compared only where the
    pipeline published the cell.
    """
    cmp = Comparison(ok=True)
    p = pipeline.copy()
    r = reference.copy()
    if "period" not in p.columns:
        r = r.drop(columns=["period"])
        keys = ["level", "kabkota_code", "pdrb_group"]
    else:
        keys = ["period", "level", "kabkota_code", "pdrb_group"]
    for df in (p, r):
        for k in ("kabkota_code", "pdrb_group"):
            df[k] = df[k].astype("object").where(df[k].notna(), "*").astype(str)
    # explicit sides, so extra columns on either side never collide in the merge
    r = r[keys + [c for c in AGGREGATE_COLUMNS if c in r.columns] + ["primary_suppressed"]]
    r = r.rename(columns={c: c + "_r" for c in r.columns if c not in keys})
    p = p.rename(columns={c: c + "_p" for c in AGGREGATE_COLUMNS if c in p.columns})
    m = p.merge(r, on=keys, how="outer", indicator=True)
    only = m["_merge"].value_counts()
    if only.get("left_only", 0) or only.get("right_only", 0):
        cmp.ok = False
        cmp.notes.append(
            f"cells only in pipeline: {int(only.get('left_only', 0))}, only in DuckDB: {int(only.get('right_only', 0))}"
        )
    both = m[m["_merge"] == "both"].copy()
    cmp.cells_compared = len(both)
    supp_p = both["suppressed"].astype("boolean").fillna(False).to_numpy(bool)
    supp_r = both["primary_suppressed_r"].astype(bool).to_numpy()
    reason = both.get("suppression_reason", pd.Series("", index=both.index)).astype(str).str.lower()
    primary_p = supp_p & reason.str.contains("|".join(PRIMARY_REASON_PATTERNS), regex=True).to_numpy()
    cmp.suppression = {
        "duckdb_primary": int(supp_r.sum()),
        "pipeline_suppressed": int(supp_p.sum()),
        "pipeline_primary": int(primary_p.sum()),
        "duckdb_primary_not_suppressed_by_pipeline": int((supp_r & ~supp_p).sum()),
        "pipeline_primary_not_primary_in_duckdb": int((primary_p & ~supp_r).sum()),
    }
    if (
        cmp.suppression["duckdb_primary_not_suppressed_by_pipeline"]
        or cmp.suppression["pipeline_primary_not_primary_in_duckdb"]
    ):
        cmp.ok = False
    published = ~supp_p
    for col in AGGREGATE_COLUMNS:
        if col not in pipeline.columns:
            cmp.notes.append(f"aggregate column {col} not in the pipeline output: not compared")
            continue
        # n_companies is published for suppressed cells too; values only where the cell is published
        rows = slice(None) if col == "n_companies" else published
        bad = int((~_close(both[col + "_p"][rows], both[col + "_r"][rows], rtol)).sum())
        cmp.checked_columns.append(col)
        if bad:
            cmp.mismatches[col] = bad
            cmp.ok = False
    return cmp
