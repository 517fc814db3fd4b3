"""Disclosure-controlled aggregates of company indicators (METHOD.md §4). Pure functions, no Prefect.

The published table is kab/kota x PDRB group with its margins: the kab/kota totals, the PDRB-group
totals and the grand total (levels ``kabkota_x_sector``, ``kabkota``, ``sector``, ``total``). Internally
a cell is ``(kk, gg)`` with ``"*"`` for "all", so the four levels are one extended 2-D table.

Rules, in order:

1. Contributors: rows of one NIB in a cell are combined first (one company = one contributor).
2. Primary suppression: fewer than ``min_companies`` distinct companies, or the p% rule fails on any summed
   magnitude (contributions x1 >= x2 >= ..., total X: unsafe if X - x1 - x2 < p/100 * x1; evaluated on
   absolute values, which matters for value added, the only magnitude that can be negative).
3. Carried suppression: a cell suppressed in the previous period stays suppressed (a value published now
   would help estimate the value withheld then).
4. Secondary suppression, to a fixed point: (a) a row or column line (margins included) with exactly one
   suppressed cell gets its next-smallest publishable cell suppressed too; (b) the suppressed cells form a
   bipartite graph (an edge per cell between its row line and its column line); a suppressed cell that is
   a bridge of that graph can be recomputed exactly by adding and subtracting line equations, so the
   cheapest path of publishable cells that closes a cycle through it is suppressed as well. With no line
   holding exactly one suppressed cell and no bridge, no suppressed value can be recovered exactly from the
   published cells and margins. (Interval estimates narrower than p% are not guarded against: no
   protection-level optimisation is done.)

Suppressed cells keep ``n_companies`` (counting firms is usual practice and reveals no values); every value
column is null. Ratios are ratios of cell totals (sum VA / sum L ...), so they are published exactly where
their numerator and denominator are. Quartiles of VA per worker need 10 companies.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from schemas.company import AGGREGATE_VALUE_COLUMNS, AGGREGATES_SCHEMA, SUMMED_MAGNITUDES
from tasks.company_indicators import nib_codes

ALL = "*"
QUARTILE_MIN_COMPANIES = 10

_MAG_LABEL_ID = {
    "value_added_idr": "nilai tambah",
    "labour_cost_idr": "biaya tenaga kerja",
    "net_sales_idr": "penjualan bersih",
    "workers_avg_total": "jumlah pekerja",
    "hours_worked": "jam kerja",
    "fixed_assets_avg_idr": "aset tetap",
}

Cell = tuple[str, str]


@dataclass(frozen=True)
class DisclosureRules:
    min_companies: int = 3
    p_percent: float = 10.0


def cell_label(cell: Cell, lang: str = "en") -> str:
    kk, gg = cell
    if cell == (ALL, ALL):
        return "total" if lang == "en" else "total"
    every = "all" if lang == "en" else "semua"
    return f"{every if kk == ALL else kk} x {every if gg == ALL else gg}"


def level_of(kk: str, gg: str) -> str:
    if kk == ALL and gg == ALL:
        return "total"
    if kk == ALL:
        return "sector"
    if gg == ALL:
        return "kabkota"
    return "kabkota_x_sector"


# --- cells ------------------------------------------------------------------------------------------
def _sorted_codes(values: pd.Series, with_all: bool) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes in string order (-1 = missing) and the code -> string table, with ``ALL`` in its
    sorted place when asked, so cell ids built from codes follow the (kk, gg) string order."""
    codes, uniques = pd.factorize(values.astype("str"), sort=True)
    table = np.asarray(uniques, dtype=object)
    if with_all:
        pos = int(np.searchsorted(table, ALL))
        if pos == len(table) or table[pos] != ALL:
            table = np.insert(table, pos, ALL)
            codes = np.where(codes >= pos, codes + 1, codes)
    return codes.astype("int64"), table


@dataclass(frozen=True)
class Contributors:
    """One row per (cell, NIB) for all four levels, ordered by cell then NIB: magnitudes summed over a
    company's rows in the cell; ``cid`` numbers the cells in (kk, gg) string order."""

    cid: np.ndarray
    values: pd.DataFrame  # SUMMED_MAGNITUDES columns, float64, aligned with cid
    cell_kk: np.ndarray  # per cell id: kab/kota code or ALL
    cell_gg: np.ndarray  # per cell id: PDRB group or ALL


def contributors(companies: pd.DataFrame) -> Contributors:
    # integer keys instead of string columns: grouping 4 x n string keys was most of the time at 10^5
    kab, kab_table = _sorted_codes(companies["kabkota_code"], with_all=True)
    grp, grp_table = _sorted_codes(companies["pdrb_group"], with_all=True)
    # dense NIB codes in string order (for 13-digit NIBs integer order is string order)
    nib_int = nib_codes(companies["nib"].astype("str"), sort=True)
    nib_table, nib = np.unique(nib_int, return_inverse=True)
    if len(nib_table) and nib_table[0] < 0:  # a missing NIB: drop it from every cell, as grouping did
        nib = nib - 1
        nib_table = nib_table[1:]
    nib = nib.astype("int64")
    kab_all = int(np.searchsorted(kab_table, ALL))
    grp_all = int(np.searchsorted(grp_table, ALL))
    n = len(companies)
    every_k = np.full(n, kab_all, dtype="int64")
    every_g = np.full(n, grp_all, dtype="int64")
    kk = np.concatenate([kab, kab, every_k, every_k])
    gg = np.concatenate([grp, every_g, grp, every_g])
    nb = np.concatenate([nib] * 4)
    # a missing key drops the row from the cells of that level only (as grouping by strings did)
    valid = (kk >= 0) & (gg >= 0) & (nb >= 0)
    n_nib = max(len(nib_table), 1)
    key = (kk * len(grp_table) + gg) * n_nib + nb
    key = key[valid]
    order = np.argsort(key, kind="stable")
    key = key[order]
    mags = {}
    for m in SUMMED_MAGNITUDES:
        v = pd.to_numeric(companies[m], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        # + 0.0 as a sum does (-0.0 -> 0.0)
        mags[m] = np.concatenate([v] * 4)[valid][order] + 0.0
    summed = pd.DataFrame(mags)
    starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1] if len(key) else np.zeros(0, dtype="int64")
    if len(starts) < len(key):
        # one company with several rows in a cell: pandas sums those groups (the stable sort kept the
        # input order inside each group, so the floats are those of a groupby over all rows)
        run = np.cumsum(np.r_[False, np.diff(key) != 0]) if len(key) else key
        many = np.bincount(run)[run] > 1
        combined = summed[many].groupby(run[many], sort=True).sum(min_count=1)
        singles = summed[~many].set_axis(run[~many])
        summed = pd.concat([singles, combined]).sort_index(kind="stable")
        key = key[starts]
    summed = summed.set_axis(key)
    cell = summed.index.to_numpy() // n_nib  # ascending, as the keys are
    new_cell = np.r_[True, cell[1:] != cell[:-1]] if len(cell) else np.zeros(0, dtype=bool)
    cell_ids = cell[new_cell]
    cid = np.cumsum(new_cell) - 1
    return Contributors(
        cid=cid.astype("int64"),
        values=summed.reset_index(drop=True),
        cell_kk=kab_table[cell_ids // len(grp_table)],
        cell_gg=grp_table[cell_ids % len(grp_table)],
    )


def p_percent_unsafe(cid: np.ndarray, values: np.ndarray, n_cells: int, p_percent: float) -> np.ndarray:
    """Per cell id: True where the p% rule fails (absolute contributions, one per company).

    Needs no sort: the largest contribution per cell is a segment maximum, the second the maximum with
    the first occurrence of the largest taken out. ``cid`` ascending (contributors are) or sorted here.
    """
    x = np.nan_to_num(np.abs(values), nan=0.0)
    cs = np.asarray(cid)
    if len(cs) and np.any(cs[1:] < cs[:-1]):
        order = np.argsort(cs, kind="stable")
        x, cs = x[order], cs[order]
    unsafe = np.zeros(n_cells, dtype=bool)
    if not len(cs):
        return unsafe
    starts = np.r_[0, np.flatnonzero(np.diff(cs)) + 1]
    counts = np.diff(np.r_[starts, len(cs)])
    total = np.add.reduceat(x, starts)
    x1 = np.maximum.reduceat(x, starts)
    at_max = np.flatnonzero(x == np.repeat(x1, counts))
    first_max = at_max[np.r_[True, cs[at_max[1:]] != cs[at_max[:-1]]]]
    rest = x.copy()
    rest[first_max] = -np.inf
    x2 = np.where(counts > 1, np.maximum.reduceat(rest, starts), 0.0)
    # a relative tolerance so float sums of integer rupiah do not flip a cell exactly on the boundary
    # (it also absorbs the summation order of the total, which is not part of the rule)
    unsafe[cs[starts]] = (total - x1 - x2) < (p_percent / 100.0) * x1 * (1 - 1e-12)
    return unsafe


def cell_statistics(companies: pd.DataFrame, rules: DisclosureRules) -> pd.DataFrame:
    """Sums, counts, quartiles and primary-suppression reasons for every non-empty cell (one row each)."""
    contrib = contributors(companies)
    cid = contrib.cid
    vals = contrib.values
    cells = vals.groupby(cid, sort=True).sum(min_count=1).reset_index(drop=True)
    cells.insert(0, "kk", contrib.cell_kk)
    cells.insert(1, "gg", contrib.cell_gg)
    n_cells = len(cells)
    counts = np.bincount(cid, minlength=n_cells)
    cells["n_companies"] = counts
    few = counts < rules.min_companies
    reasons_en: list[list[str]] = [[] for _ in range(n_cells)]
    reasons_id: list[list[str]] = [[] for _ in range(n_cells)]
    for i in np.flatnonzero(few):
        reasons_en[i].append(f"fewer than {rules.min_companies} companies")
        reasons_id[i].append(f"kurang dari {rules.min_companies} perusahaan")
    for m in SUMMED_MAGNITUDES:
        unsafe = p_percent_unsafe(cid, vals[m].to_numpy(dtype="float64"), n_cells, rules.p_percent)
        # with too few companies the count already withholds the cell; p% on 1-2 firms says nothing new
        for i in np.flatnonzero(unsafe & ~few):
            reasons_en[i].append(f"p% rule on {m}")
            reasons_id[i].append(f"aturan p% pada {_MAG_LABEL_ID[m]}")
    cells["primary_en"] = reasons_en
    cells["primary_id"] = reasons_id

    # quartiles are published only from QUARTILE_MIN_COMPANIES on: compute them for those cells only
    big = counts[cid] >= QUARTILE_MIN_COMPANIES
    w = vals["workers_avg_total"].to_numpy()[big]
    vapw = pd.Series(12.0 * vals["value_added_idr"].to_numpy()[big] / np.where(w > 0, w, np.nan))
    q = vapw.groupby(cid[big])
    for name, quant in (("p25", 0.25), ("median", 0.5), ("p75", 0.75)):
        cells[f"va_per_worker_annualised_{name}_idr"] = q.quantile(quant).reindex(cells.index).to_numpy()
    return cells


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den != 0)).astype("float64")


def _add_ratios(cells: pd.DataFrame) -> None:
    va, lc, s = cells["value_added_idr"], cells["labour_cost_idr"], cells["net_sales_idr"]
    lw, h, fa = cells["workers_avg_total"], cells["hours_worked"], cells["fixed_assets_avg_idr"]
    cells["va_per_worker_idr"] = _ratio(va, lw)
    cells["va_per_worker_annualised_idr"] = 12.0 * _ratio(va, lw)
    cells["va_per_hour_idr"] = _ratio(va, h)
    cells["labour_cost_per_worker_idr"] = _ratio(lc, lw)
    cells["labour_cost_competitiveness"] = _ratio(va, lc)
    cells["labour_share_pct"] = (100.0 * _ratio(lc, va)).where(va > 0)
    cells["va_ratio_pct"] = 100.0 * _ratio(va, s)
    cells["capital_productivity_annualised"] = 12.0 * _ratio(va, fa)
    cells["capital_intensity_idr_per_worker"] = _ratio(fa, lw)


# --- secondary suppression ------------------------------------------------------------------------------
def _lines(cells: list[Cell]) -> list[list[Cell]]:
    rows: dict[str, list[Cell]] = defaultdict(list)
    cols: dict[str, list[Cell]] = defaultdict(list)
    for c in cells:
        rows[c[0]].append(c)
        cols[c[1]].append(c)
    return [rows[k] for k in sorted(rows)] + [cols[k] for k in sorted(cols)]


def _bridges(suppressed: set[Cell]) -> list[Cell]:
    """Suppressed cells that are bridges of the row-line/column-line graph (exactly recoverable), sorted.

    One depth-first search (Tarjan's low-link, iterative so deep graphs cannot hit the recursion limit):
    linear in the suppressed cells, where a reachability search per cell was quadratic.
    """
    adj: dict[tuple[str, str], list[tuple[tuple[str, str], Cell]]] = defaultdict(list)
    for c in suppressed:
        r, k = ("r", c[0]), ("c", c[1])
        adj[r].append((k, c))
        adj[k].append((r, c))
    order: dict[tuple[str, str], int] = {}
    low: dict[tuple[str, str], int] = {}
    out: list[Cell] = []
    for root in adj:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, None, iter(adj[root]))]
        while stack:
            v, via, edges = stack[-1]
            for w, c in edges:
                if c == via:  # the edge we came in by (by cell, so a parallel edge still counts)
                    continue
                if w in order:
                    low[v] = min(low[v], order[w])
                else:
                    order[w] = low[w] = len(order)
                    stack.append((w, c, iter(adj[w])))
                    break
            else:
                stack.pop()
                if stack:
                    u = stack[-1][0]
                    low[u] = min(low[u], low[v])
                    if low[v] > order[u]:
                        out.append(via)
    return sorted(out)


def _cheapest_cycle_path(
    bridge: Cell, present: set[Cell], suppressed: set[Cell], cost: dict[Cell, float]
) -> list[Cell]:
    """Publishable cells on the cheapest path from the bridge's row line to its column line avoiding it."""
    adj: dict[tuple[str, str], list[tuple[tuple[str, str], Cell]]] = defaultdict(list)
    for c in present:
        if c == bridge:
            continue
        r, k = ("r", c[0]), ("c", c[1])
        adj[r].append((k, c))
        adj[k].append((r, c))
    start, goal = ("r", bridge[0]), ("c", bridge[1])
    best: dict[tuple[str, str], float] = {start: 0.0}
    back: dict[tuple[str, str], tuple[tuple[str, str], Cell]] = {}
    heap: list[tuple[float, tuple[str, str]]] = [(0.0, start)]
    while heap:
        d, v = heapq.heappop(heap)
        if v == goal:
            break
        if d > best.get(v, np.inf):
            continue
        for w, c in sorted(adj[v]):
            nd = d + (0.0 if c in suppressed else cost[c])
            if nd < best.get(w, np.inf):
                best[w] = nd
                back[w] = (v, c)
                heapq.heappush(heap, (nd, w))
    if goal not in back:
        return sorted(present - suppressed)  # cannot happen with margins present; withhold everything
    path, v = [], goal
    while v != start:
        v, c = back[v]
        if c not in suppressed:
            path.append(c)
    return path


def secondary_suppression(
    present: set[Cell], suppressed: set[Cell], cost: dict[Cell, float]
) -> dict[Cell, Cell]:
    """Cells to suppress in addition, each mapped to the suppressed cell it protects."""
    sup = set(suppressed)
    added: dict[Cell, Cell] = {}
    lines = _lines(sorted(present))
    # per line, how many of its cells are suppressed: kept up to date as cells are added, so a pass over
    # the lines looks only into the lines with exactly one (same order and picks as recounting each line)
    lines_of: dict[Cell, list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        for c in line:
            lines_of[c].append(i)
    n_hidden = [sum(c in sup for c in line) for line in lines]

    def hide(c: Cell, protects: Cell) -> None:
        if c not in sup:
            sup.add(c)
            for i in lines_of[c]:
                n_hidden[i] += 1
        added[c] = protects

    while True:
        changed = False
        for i, line in enumerate(lines):
            if n_hidden[i] != 1:
                continue
            candidates = [c for c in line if c not in sup]
            if not candidates:
                continue
            hidden = next(c for c in line if c in sup)
            hide(min(candidates, key=lambda c: (cost[c], c)), hidden)
            changed = True
        if changed:
            continue
        bridges = _bridges(sup)
        if not bridges:
            return added
        b = bridges[0]
        for c in _cheapest_cycle_path(b, present, sup, cost):
            hide(c, b)


# --- the aggregates ---------------------------------------------------------------------------------
def _previous_suppressed(previous: pd.DataFrame | None) -> dict[Cell, str]:
    if previous is None or previous.empty:
        return {}
    prev = previous[previous["suppressed"].astype(bool)]
    kk = prev["kabkota_code"].astype("object").where(prev["kabkota_code"].notna(), ALL).tolist()
    gg = prev["pdrb_group"].astype("object").where(prev["pdrb_group"].notna(), ALL).tolist()
    periods = prev["period"].tolist()
    return {(str(k), str(g)): str(p) for k, g, p in zip(kk, gg, periods, strict=True)}


def disclosure_aggregates(
    companies: pd.DataFrame,
    period: str,
    rules: DisclosureRules | None = None,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The aggregates table (columns of ``AGGREGATES_SCHEMA``) with disclosure control applied.

    ``companies``: company indicators of the period (nib, kabkota_code, pdrb_group and the summed
    magnitudes); ``previous``: the previous period's aggregates, whose suppressed cells are carried.
    """
    rules = rules or DisclosureRules()
    if companies.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in AGGREGATES_SCHEMA.names})
    cells = cell_statistics(companies, rules)
    _add_ratios(cells)
    kk_list: list[str] = cells["kk"].tolist()
    gg_list: list[str] = cells["gg"].tolist()
    keys: list[Cell] = list(zip(kk_list, gg_list, strict=True))
    present = set(keys)
    primary_en: list[list[str]] = cells["primary_en"].tolist()
    primary_id: list[list[str]] = cells["primary_id"].tolist()
    primary = {c for c, r in zip(keys, primary_en, strict=True) if r}
    carried = {c: p for c, p in _previous_suppressed(previous).items() if c in present}
    va_abs = np.nan_to_num(np.abs(cells["value_added_idr"].to_numpy(dtype="float64")), nan=0.0)
    cost = dict(zip(keys, va_abs.tolist(), strict=True))
    secondary = secondary_suppression(present, primary | set(carried), cost)

    reason_en, reason_id, suppressed = [], [], []
    for c, p_en, p_id in zip(keys, primary_en, primary_id, strict=True):
        if not p_en and c not in carried and c not in secondary:
            suppressed.append(False)
            reason_en.append(None)
            reason_id.append(None)
            continue
        en, id_ = list(p_en), list(p_id)
        if c in carried:
            en.append(f"carried from {carried[c]}")
            id_.append(f"dibawa dari periode {carried[c]}")
        if c in secondary:
            en.append(f"secondary (protects {cell_label(secondary[c])})")
            id_.append(f"sekunder (melindungi {cell_label(secondary[c], 'id')})")
        suppressed.append(True)
        reason_en.append("; ".join(en))
        reason_id.append("; ".join(id_))
    cells["suppressed"] = suppressed
    cells["suppression_reason"] = reason_en
    cells["suppression_reason_id"] = reason_id

    few_for_quartiles = cells["n_companies"] < QUARTILE_MIN_COMPANIES
    for name in ("p25", "median", "p75"):
        col = f"va_per_worker_annualised_{name}_idr"
        cells[col] = cells[col].where(~few_for_quartiles)
    hide = cells["suppressed"].to_numpy()
    for col in AGGREGATE_VALUE_COLUMNS:
        cells[col] = cells[col].astype("float64").where(~hide)

    out = cells
    levels = [level_of(k, g) for k, g in keys]
    out["level"] = levels
    out["kabkota_code"] = out["kk"].where(out["kk"] != ALL, None)
    out["pdrb_group"] = out["gg"].where(out["gg"] != ALL, None)
    out["period"] = period
    out["n_companies"] = out["n_companies"].astype("int64")
    # cells come in (kk, gg) order already, so a stable sort by level alone gives level, kk, gg
    rank = {lvl: i for i, lvl in enumerate(("kabkota_x_sector", "kabkota", "sector", "total"))}
    order = np.argsort(np.array([rank[lvl] for lvl in levels], dtype="int64"), kind="stable")
    return out[AGGREGATES_SCHEMA.names].take(order).reset_index(drop=True)
