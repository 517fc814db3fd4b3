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

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.company import PRICE_BASIS_CONSTANT_2010, PRICE_BASIS_NOMINAL

VA_PLUS_REQUIRED = ("net_sales",)
VA_PLUS_OPTIONAL = ("other_operating_income", "chg_inventory_fg_wip")
VA_MINUS_REQUIRED = ("purch_raw_materials", "purch_energy", "purch_services")
VA_MINUS_OPTIONAL = ("purch_goods_for_resale",)
LC_REQUIRED = ("wages_salaries", "employer_social_contrib")
LC_OPTIONAL = ("other_benefits",)

# what the productivity indices read from earlier periods
HISTORY_COLUMNS: tuple[str, ...] = (
    "nib", "period", "pdrb_group", "workers_avg_total",
    *VA_PLUS_REQUIRED, *VA_PLUS_OPTIONAL, *VA_MINUS_REQUIRED, *VA_MINUS_OPTIONAL,
)  # fmt: skip
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
    if deflators is None or deflators.empty:
        return pd.Series(np.nan, index=idx, dtype="float64"), pd.Series(None, index=idx, dtype="object")
    # a year has a few hundred distinct (group, period) pairs: look those up, not every row
    g_codes, g_uniq = pd.factorize(pdrb_group, use_na_sentinel=False)
    p_codes, p_uniq = pd.factorize(period, use_na_sentinel=False)
    pair = g_codes.astype("int64") * max(len(p_uniq), 1) + p_codes
    pairs, inverse = np.unique(pair, return_inverse=True)
    value, source = _lookup_deflator_rows(
        pd.Series(np.asarray(g_uniq, dtype=object)[pairs // max(len(p_uniq), 1)]),
        pd.Series(np.asarray(p_uniq, dtype=object)[pairs % max(len(p_uniq), 1)]),
        deflators,
    )
    return (
        pd.Series(value.to_numpy()[inverse], index=idx, dtype="float64"),
        pd.Series(source.to_numpy(dtype=object)[inverse], index=idx, dtype="object"),
    )


def _lookup_deflator_rows(
    pdrb_group: pd.Series, period: pd.Series, deflators: pd.DataFrame
) -> tuple[pd.Series, pd.Series]:
    idx = pdrb_group.index
    value = pd.Series(np.nan, index=idx, dtype="float64")
    source = pd.Series(None, index=idx, dtype="object")
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
    n = num.to_numpy(dtype="float64", na_value=np.nan)
    d = den.to_numpy(dtype="float64", na_value=np.nan)
    out = np.full(len(n), np.nan)
    np.divide(n, d, out=out, where=~np.isnan(n) & ~np.isnan(d) & (d != 0))
    return pd.Series(out, index=num.index, dtype="float64")


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
def _value_added_float(df: pd.DataFrame) -> np.ndarray:
    """value_added(df) as float64 (NaN = null); plain int64 arithmetic when no item can be null."""
    cols = (*VA_PLUS_REQUIRED, *VA_PLUS_OPTIONAL, *VA_MINUS_REQUIRED, *VA_MINUS_OPTIONAL)
    if all(c in df.columns and df[c].dtype == np.int64 for c in cols):
        plus = sum(df[c].to_numpy() for c in (*VA_PLUS_REQUIRED, *VA_PLUS_OPTIONAL))
        minus = sum(df[c].to_numpy() for c in (*VA_MINUS_REQUIRED, *VA_MINUS_OPTIONAL))
        return (plus - minus).astype("float64")
    return value_added(df).to_numpy(dtype="float64", na_value=np.nan)


@dataclass(frozen=True)
class _Panel:
    """Real VA per worker by (nib, period), sorted by nib then period; a company's rows in one month are
    summed. Codes index ``nibs`` and ``periods`` (periods in string order)."""

    nib: np.ndarray
    per: np.ndarray
    p: np.ndarray
    periods: np.ndarray
    row_nib: np.ndarray  # nib code of each input row (-1 = missing), in input order


def nib_codes(nib: pd.Series, sort: bool = False) -> np.ndarray:
    """An int64 per NIB, equal exactly where the NIBs are equal, -1 where missing.

    NIBs are 13-digit strings: then the number itself is such a code and costs a cast, where hashing a
    year of strings each month cost most of the indices' time. Anything else is factorised. With
    ``sort`` the codes follow the strings' order (integer order is string order for 13 digits).
    """
    arr = pa.array(nib.array) if len(nib) else None  # zero-copy for Arrow-backed strings
    if arr is not None and arr.type in (pa.string(), pa.large_string()) and arr.null_count == 0:
        # same length, ASCII digits only: the integer is one-to-one with the string
        if pc.all(pc.equal(pc.utf8_length(arr), 13)).as_py() and pc.all(pc.ascii_is_decimal(arr)).as_py():
            return np.asarray(pc.cast(arr, pa.int64()), dtype="int64")
    return pd.factorize(nib, sort=sort)[0].astype("int64")


def _productivity_panel(frames: list[pd.DataFrame], deflators: pd.DataFrame | None) -> _Panel:
    # integer codes and numpy arrays: the history is up to a year of rows, regrouped every month
    row_codes = nib_codes(pd.concat([f["nib"] for f in frames], ignore_index=True))
    per_codes, periods = pd.factorize(pd.concat([f["period"] for f in frames], ignore_index=True), sort=True)
    va = np.concatenate([_value_added_float(f) for f in frames])
    if deflators is not None:
        defl, _ = lookup_deflator(
            pd.concat([f["pdrb_group"] for f in frames], ignore_index=True),
            pd.concat([f["period"] for f in frames], ignore_index=True),
            deflators,
        )
        va_real = va * 100.0 / defl.to_numpy()
    else:
        va_real = va
    workers = np.concatenate(
        [
            pd.to_numeric(f["workers_avg_total"], errors="coerce").to_numpy("float64", na_value=np.nan)
            for f in frames
        ]
    )
    keep = (row_codes >= 0) & (per_codes >= 0)  # grouping dropped rows without a key
    n_per = max(len(periods), 1)
    if len(row_codes) and int(row_codes.max()) >= np.iinfo(np.int64).max // (n_per + 1):
        row_codes = pd.factorize(pd.concat([f["nib"] for f in frames], ignore_index=True))[0].astype("int64")
    key = row_codes[keep].astype("int64") * n_per + per_codes[keep]
    order = np.argsort(key, kind="stable")
    key = key[order]
    va_real = va_real[keep][order]
    workers = workers[keep][order]
    missing = np.isnan(va_real) | np.isnan(workers)
    # one row per (nib, period): its value is the group's sum (+ 0.0 as a sum gives); several rows are
    # summed by pandas in input order (the stable sort kept it), so the floats are those of a groupby
    va_real = va_real + 0.0
    workers = workers + 0.0
    if len(key) and np.any(key[1:] == key[:-1]):
        run = np.r_[0, np.cumsum(key[1:] != key[:-1])]
        frame = pd.DataFrame({"va_real": va_real, "workers": workers, "missing": missing.astype("int64")})
        summed = frame.groupby(run, sort=True).sum()
        va_real = summed["va_real"].to_numpy()
        workers = summed["workers"].to_numpy()
        missing = summed["missing"].to_numpy() > 0
        key = key[np.r_[True, key[1:] != key[:-1]]]
    va_real = np.where(missing, np.nan, va_real)
    workers = np.where(missing, np.nan, workers)
    p = _div(pd.Series(va_real), pd.Series(workers)).to_numpy()
    return _Panel(
        nib=key // n_per,
        per=key % n_per,
        p=p,
        periods=np.asarray(periods, dtype=object),
        row_nib=row_codes,
    )


def productivity_indices(
    current: pd.DataFrame, history: pd.DataFrame | None, deflators: pd.DataFrame | None
) -> pd.DataFrame:
    """Per current row: base_period and the previous-month, fixed-base and chain-linked indices.

    For one company and one deflator series the chain telescopes to the fixed-base index; they differ
    where a link is undefined (productivity <= 0 or unknown): the fixed-base index comes back once both
    ends are positive again, the chain stays broken from that link on.
    """
    keep = [
        "nib",
        "base_period",
        "productivity_index_prev",
        "productivity_index_base",
        "productivity_index_chain",
    ]
    if not len(current):
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in keep}, index=current.index)
    period = current["period"].iloc[0]
    frames = [current]
    if history is not None and len(history):
        earlier = (history["period"] < period).to_numpy(dtype=bool, na_value=False)
        cols = [c for c in HISTORY_COLUMNS if c in history.columns]
        frames.insert(0, history[cols][earlier] if not earlier.all() else history[cols])
    panel = _productivity_panel(frames, deflators)
    nib, per, p = panel.nib, panel.per, panel.p
    n = len(nib)
    first = np.r_[True, nib[1:] != nib[:-1]] if n else np.zeros(0, dtype=bool)
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    prev_p = np.r_[np.nan, p[:-1]] if n else p
    prev_p = np.where(first, np.nan, prev_p)
    both = (p > 0) & (prev_p > 0)
    link = np.full(n, np.nan)
    np.divide(p, prev_p, out=link, where=both)
    broken = (np.isnan(link) & ~first) | (first & ~(p > 0))
    n_broken = np.cumsum(broken)
    broken_so_far = (n_broken - (n_broken - broken)[start]) > 0
    log_link = np.log(np.where(first | np.isnan(link), 1.0, link))
    # pandas' grouped cumulative sum, as before, so the chained index is the same float
    cum = pd.Series(log_link).groupby(nib, sort=False).cumsum().to_numpy()
    chain = np.where(broken_so_far, np.nan, 100.0 * np.exp(cum))

    cur_code = int(np.searchsorted(panel.periods, period))
    prev_code = int(np.searchsorted(panel.periods, previous_month(period)))
    has_prev = prev_code < len(panel.periods) and panel.periods[prev_code] == previous_month(period)
    at = np.flatnonzero(per == cur_code)
    p_cur = p[at]
    p_base = p[start[at]]
    before = np.maximum(at - 1, 0)
    p_prev = np.where((~first[at]) & (per[before] == prev_code) & has_prev, p[before], np.nan)
    idx_prev = np.full(len(at), np.nan)
    np.divide(p_cur, p_prev, out=idx_prev, where=(p_cur > 0) & (p_prev > 0))
    idx_base = np.full(len(at), np.nan)
    np.divide(p_cur, p_base, out=idx_base, where=(p_cur > 0) & (p_base > 0))
    idx_prev = np.where(np.isnan(idx_prev), np.nan, 100.0 * idx_prev)
    idx_base = np.where(np.isnan(idx_base), np.nan, 100.0 * idx_base)

    # back to the current rows by company (several rows of one NIB share its figures); the current
    # period's panel rows are in NIB code order
    cur_nib = panel.row_nib[-len(current) :]
    at_nib = nib[at]
    j = np.minimum(np.searchsorted(at_nib, cur_nib), max(len(at) - 1, 0))
    found = (cur_nib >= 0) & (at_nib[j] == cur_nib) if len(at) else np.zeros(len(cur_nib), dtype=bool)
    j = np.where(found, j, 0)

    def pick(values: np.ndarray) -> np.ndarray:
        return np.where(found, values[j] if len(values) else np.nan, np.nan)

    base_period = np.asarray(panel.periods[per[start[at]]], dtype=object) if len(at) else np.array([], object)
    base_col = np.where(found, base_period[j] if len(at) else None, np.nan).astype(object)
    return pd.DataFrame(
        {
            "nib": current["nib"].array,
            "base_period": base_col,
            "productivity_index_prev": pick(idx_prev),
            "productivity_index_base": pick(idx_base),
            "productivity_index_chain": pick(chain[at]),
        },
        index=current.index,
    )


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
