"""Company productivity indicators by the value-added approach (METHOD.md §2), vectorised over a period.

Input: accepted submission rows (one per company and month, money in int64 rupiah per month). The
conventions that are choices, not facts:

- Missing *optional* items (METHOD.md §3.2: ``other_operating_income``, ``chg_inventory_fg_wip``,
  ``purch_goods_for_resale``, ``other_benefits``) count as 0. Missing *required* items never do: the
  indicators built on them are null and ``flag_missing_input`` is set.
- Ratios within one month (VA/LC, LC/VA, VA/S, VA/FA) use current prices on both sides, so they need no
  deflator. Comparisons across time (indices) and with benchmarks, and unit labour cost, use real VA:
  VA x 100 / deflator (2010 = 100) when a deflator table is configured, nominal otherwise; the
  ``price_basis`` column says which.
- Capital productivity is annualised as 12 x monthly VA / average fixed assets: VA is a monthly flow,
  fixed assets a stock (mean of opening and closing net book value), so the flow is scaled to a year.
- A ratio whose denominator is 0 is null with a flag, never inf. Negative VA stays in (flagged); ratios
  that divide *by* VA (labour share, unit labour cost) are null when VA <= 0 because they have no meaning
  there. Productivity indices are null when either productivity is <= 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.company import PRICE_BASIS_CONSTANT_2010, PRICE_BASIS_NOMINAL

VA_PLUS_REQUIRED = ("net_sales",)
VA_PLUS_OPTIONAL = ("other_operating_income", "chg_inventory_fg_wip")
VA_MINUS_REQUIRED = ("purch_raw_materials", "purch_energy", "purch_services")
VA_MINUS_OPTIONAL = ("purch_goods_for_resale",)
LC_REQUIRED = ("wages_salaries", "employer_social_contrib")
LC_OPTIONAL = ("other_benefits",)

INPUT_COLUMNS: tuple[str, ...] = (
    "nib", "company_name", "kbli_code", "kbli_section", "pdrb_group", "kabkota_code", "period",
    "net_sales", "other_operating_income", "chg_inventory_fg_wip", "purch_raw_materials", "purch_energy",
    "purch_services", "purch_goods_for_resale", "wages_salaries", "employer_social_contrib",
    "other_benefits", "fixed_assets_nbv_open", "fixed_assets_nbv_close", "workers_avg_total",
    "workers_pkwtt", "workers_pkwt", "hours_normal", "hours_overtime", "source_file", "source_row",
)  # fmt: skip


# --- configured tables ------------------------------------------------------------------------------
def load_deflator_table(path: str) -> pd.DataFrame | None:
    """Read the deflator CSV (``pdrb_group`` or "*", ``period`` YYYY-MM or YYYY (or ``year``),
    ``deflator_2010_100``, ``source``); empty path = not configured (None)."""
    if not path:
        return None
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "period" not in raw.columns and "year" in raw.columns:
        raw = raw.rename(columns={"year": "period"})
    missing = [c for c in ("pdrb_group", "period", "deflator_2010_100", "source") if c not in raw.columns]
    if missing:
        raise ValueError(
            f"deflator table {path}: missing columns {missing}; expected pdrb_group, period (YYYY-MM or "
            "YYYY), deflator_2010_100, source"
        )
    out = raw[["pdrb_group", "period", "source"]].apply(lambda s: s.str.strip())
    out["deflator_2010_100"] = pd.to_numeric(raw["deflator_2010_100"], errors="raise").astype("float64")
    bad = out[(out["deflator_2010_100"] <= 0) | ~out["period"].str.fullmatch(r"\d{4}(-\d{2})?")]
    if len(bad):
        raise ValueError(
            f"deflator table {path}: row {int(bad.index[0]) + 2} needs period YYYY-MM or YYYY and a "
            "deflator above 0"
        )
    return out.drop_duplicates(["pdrb_group", "period"], keep="last")


def load_umk_table(path: str) -> pd.DataFrame | None:
    """Read the UMK CSV (``kabkota_code``, ``year``, ``umk_idr_per_month``); empty path = None."""
    if not path:
        return None
    raw = pd.read_csv(path, dtype={"kabkota_code": str})
    missing = [c for c in ("kabkota_code", "year", "umk_idr_per_month") if c not in raw.columns]
    if missing:
        raise ValueError(f"UMK table {path}: missing columns {missing}")
    out = raw[["kabkota_code", "year", "umk_idr_per_month"]].copy()
    out["kabkota_code"] = out["kabkota_code"].str.strip()
    out["year"] = out["year"].astype("int64")
    out["umk_idr_per_month"] = out["umk_idr_per_month"].astype("float64")
    return out.drop_duplicates(["kabkota_code", "year"], keep="last")


def lookup_deflator(
    pdrb_group: pd.Series, period: pd.Series, deflators: pd.DataFrame | None
) -> tuple[pd.Series, pd.Series]:
    """Deflator and its source per row: the most specific match wins (group+month, group+year,
    "*"+month, "*"+year); NaN/None where nothing matches."""
    idx = pdrb_group.index
    value = pd.Series(np.nan, index=idx, dtype="float64")
    source = pd.Series(None, index=idx, dtype="object")
    if deflators is None or deflators.empty:
        return value, source
    year = period.str.slice(0, 4)
    table = deflators.set_index(["pdrb_group", "period"])
    for group_key, period_key in ((pdrb_group, period), (pdrb_group, year), (None, period), (None, year)):
        g = group_key if group_key is not None else pd.Series("*", index=idx)
        keys = pd.MultiIndex.from_arrays([g.to_numpy(), period_key.to_numpy()])
        found = table.reindex(keys)
        todo = value.isna().to_numpy()
        value[todo] = found["deflator_2010_100"].to_numpy()[todo]
        source[todo] = found["source"].to_numpy()[todo]
    return value, source.where(value.notna(), None)


# --- arithmetic helpers ----------------------------------------------------------------------------
def _num(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce").astype("float64")


def _div(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den as float; null where den is 0 or either side is null (never inf)."""
    num = num.astype("float64")
    den = den.astype("float64")
    ok = den.notna() & num.notna() & (den != 0)
    out = pd.Series(np.nan, index=num.index, dtype="float64")
    out[ok] = num[ok] / den[ok]
    return out


def _sum_items(df: pd.DataFrame, required: tuple[str, ...], optional: tuple[str, ...]) -> pd.Series:
    """Exact integer sum; optional items missing count as 0, a missing required item makes it null."""
    total = pd.Series(0, index=df.index, dtype="Int64")
    for c in required:
        total = total + df[c].astype("Int64")
    for c in optional:
        col = df[c] if c in df.columns else pd.Series(pd.NA, index=df.index)
        total = total + col.astype("Int64").fillna(0)
    return total


def previous_month(period: str) -> str:
    return str(pd.Period(period, freq="M") - 1)


def value_added(df: pd.DataFrame) -> pd.Series:
    plus = _sum_items(df, VA_PLUS_REQUIRED, VA_PLUS_OPTIONAL)
    minus = _sum_items(df, VA_MINUS_REQUIRED, VA_MINUS_OPTIONAL)
    return plus - minus


def labour_cost(df: pd.DataFrame) -> pd.Series:
    return _sum_items(df, LC_REQUIRED, LC_OPTIONAL)


# --- indices ---------------------------------------------------------------------------------------
def _productivity_panel(frames: list[pd.DataFrame], deflators: pd.DataFrame | None) -> pd.DataFrame:
    """Real VA per worker by (nib, period) over all given periods; a company's rows in one month are summed."""
    cols = [c for c in INPUT_COLUMNS if c not in ("source_file", "source_row")]
    rows = pd.concat([f[[c for c in cols if c in f.columns]] for f in frames], ignore_index=True)
    rows["va"] = value_added(rows).astype("float64")
    defl, _ = lookup_deflator(rows["pdrb_group"], rows["period"], deflators)
    rows["va_real"] = rows["va"] * 100.0 / defl if deflators is not None else rows["va"]
    rows["workers"] = _num(rows, "workers_avg_total")
    rows["n_missing"] = (rows["va_real"].isna() | rows["workers"].isna()).astype("int64")
    panel = rows.groupby(["nib", "period"], as_index=False, sort=True).agg(
        va_real=("va_real", "sum"), workers=("workers", "sum"), n_missing=("n_missing", "sum")
    )
    panel.loc[panel["n_missing"] > 0, ["va_real", "workers"]] = np.nan
    panel["p"] = _div(panel["va_real"], panel["workers"])
    return panel


def productivity_indices(
    current: pd.DataFrame, history: pd.DataFrame | None, deflators: pd.DataFrame | None
) -> pd.DataFrame:
    """Per current row: base_period and the previous-month, fixed-base and chain-linked indices.

    For one company and one deflator series the chain telescopes to the fixed-base index; they differ
    where a link is undefined (productivity <= 0 or unknown): the fixed-base index comes back once both
    ends are positive again, the chain stays broken from that link on.
    """
    period = current["period"].iloc[0] if len(current) else ""
    frames = [current]
    if history is not None and len(history):
        frames.insert(0, history[history["period"] < period])
    panel = _productivity_panel(frames, deflators)
    panel = panel.sort_values(["nib", "period"], kind="stable").reset_index(drop=True)
    grp = panel.groupby("nib", sort=False)
    panel["base_period"] = grp["period"].transform("min")
    first = panel["period"] == panel["base_period"]
    prev_p = grp["p"].shift(1)
    link = _div(panel["p"], prev_p).where((panel["p"] > 0) & (prev_p > 0))
    broken = (link.isna() & ~first) | (first & ~(panel["p"] > 0))
    broken_so_far = broken.astype("int64").groupby(panel["nib"]).cummax().astype(bool)
    log_link = np.log(link.where(~first, 1.0).fillna(1.0))
    panel["chain"] = (100.0 * np.exp(log_link.groupby(panel["nib"]).cumsum())).where(~broken_so_far)

    base_p = panel.loc[first, ["nib", "p"]].rename(columns={"p": "p_base"})
    cur = panel[panel["period"] == period].merge(base_p, on="nib", how="left")
    prev = panel[["nib", "period", "p"]].rename(columns={"period": "prev_period", "p": "p_prev"})
    cur["prev_period"] = previous_month(period) if period else ""
    cur = cur.merge(prev, on=["nib", "prev_period"], how="left")
    both_pos = lambda a, b: (a > 0) & (b > 0)  # noqa: E731
    cur["productivity_index_prev"] = (100.0 * _div(cur["p"], cur["p_prev"])).where(
        both_pos(cur["p"], cur["p_prev"])
    )
    cur["productivity_index_base"] = (100.0 * _div(cur["p"], cur["p_base"])).where(
        both_pos(cur["p"], cur["p_base"])
    )
    cur = cur.rename(columns={"chain": "productivity_index_chain"})
    keep = [
        "nib",
        "base_period",
        "productivity_index_prev",
        "productivity_index_base",
        "productivity_index_chain",
    ]
    return current[["nib"]].merge(cur[keep], on="nib", how="left").set_index(current.index)


# --- the indicators --------------------------------------------------------------------------------
def compute_company_indicators(
    current: pd.DataFrame,
    history: pd.DataFrame | None = None,
    deflators: pd.DataFrame | None = None,
    umk: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All company indicators for one period's accepted rows (benchmark columns are added by
    :func:`tasks.benchmarks.attach_benchmarks`). ``history``: accepted rows of earlier periods."""
    df = current.reset_index(drop=True)
    out = pd.DataFrame(index=df.index)
    for c in ("nib", "company_name", "kbli_code", "kbli_section", "pdrb_group", "kabkota_code", "period"):
        out[c] = df[c].astype("str")

    va = value_added(df)
    lc = labour_cost(df)
    out["value_added_idr"] = va
    out["labour_cost_idr"] = lc
    out["net_sales_idr"] = df["net_sales"].astype("Int64")
    workers = _num(df, "workers_avg_total")
    hours = _num(df, "hours_normal") + _num(df, "hours_overtime")
    fa = (_num(df, "fixed_assets_nbv_open") + _num(df, "fixed_assets_nbv_close")) / 2.0
    out["workers_avg_total"] = workers
    out["hours_worked"] = hours
    out["fixed_assets_avg_idr"] = fa

    vaf = va.astype("float64")
    lcf = lc.astype("float64")
    sales = out["net_sales_idr"].astype("float64")
    va_pos = vaf > 0
    out["va_per_worker_idr"] = _div(vaf, workers)
    out["va_per_worker_annualised_idr"] = out["va_per_worker_idr"] * 12.0
    out["va_per_hour_idr"] = _div(vaf, hours)
    out["labour_cost_per_worker_idr"] = _div(lcf, workers)
    employees = _num(df, "workers_pkwtt") + _num(df, "workers_pkwt")
    out["wage_per_employee_idr"] = _div(_num(df, "wages_salaries"), employees)
    out["umk_idr_per_month"] = np.nan
    if umk is not None and len(umk):
        keys = pd.DataFrame(
            {"kabkota_code": out["kabkota_code"], "year": out["period"].str[:4].astype("int64")}
        )
        out["umk_idr_per_month"] = keys.merge(umk, on=["kabkota_code", "year"], how="left")[
            "umk_idr_per_month"
        ].to_numpy()
    out["labour_cost_competitiveness"] = _div(vaf, lcf)
    out["labour_share_pct"] = (100.0 * _div(lcf, vaf)).where(va_pos)
    out["capital_productivity_annualised"] = _div(12.0 * vaf, fa)
    out["capital_intensity_idr_per_worker"] = _div(fa, workers)
    out["va_ratio_pct"] = 100.0 * _div(vaf, sales)

    defl, defl_src = lookup_deflator(out["pdrb_group"], out["period"], deflators)
    if deflators is None:
        out["price_basis"] = PRICE_BASIS_NOMINAL
        out["value_added_real_idr"] = vaf
    else:
        # a configured table that lacks this group/period gives no real figure, rather than a nominal
        # one mislabelled as real
        out["price_basis"] = PRICE_BASIS_CONSTANT_2010
        out["value_added_real_idr"] = vaf * 100.0 / defl
    out["deflator_2010_100"] = defl
    out["deflator_source"] = defl_src
    out["unit_labour_cost"] = _div(lcf, out["value_added_real_idr"]).where(out["value_added_real_idr"] > 0)

    idx = productivity_indices(df, history, deflators)
    for c in (
        "base_period",
        "productivity_index_prev",
        "productivity_index_base",
        "productivity_index_chain",
    ):
        out[c] = idx[c].to_numpy()

    out["flag_negative_va"] = (vaf < 0).fillna(False).astype(bool)
    out["flag_zero_workers"] = (workers == 0).fillna(False).astype(bool)
    out["flag_zero_hours"] = (hours == 0).fillna(False).astype(bool)
    out["flag_zero_labour_cost"] = (lcf == 0).fillna(False).astype(bool)
    out["flag_zero_fixed_assets"] = (fa == 0).fillna(False).astype(bool)
    out["flag_zero_sales"] = (sales == 0).fillna(False).astype(bool)
    out["flag_missing_input"] = (va.isna() | lc.isna() | workers.isna() | hours.isna() | fa.isna()).astype(
        bool
    )
    below = out["wage_per_employee_idr"] < out["umk_idr_per_month"]
    known = out["wage_per_employee_idr"].notna() & out["umk_idr_per_month"].notna()
    out["flag_below_umk"] = below.astype("boolean").where(known, pd.NA)

    out["source_file"] = df["source_file"].astype("str")
    out["source_row"] = df["source_row"].astype("Int64")
    return out
