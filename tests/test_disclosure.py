"""Disclosure control: minimum companies, p% rule, secondary suppression across margins, carried pattern."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.company import AGGREGATE_VALUE_COLUMNS, AGGREGATES_SCHEMA, SUMMED_MAGNITUDES
from tasks.disclosure import ALL, DisclosureRules, _bridges, disclosure_aggregates, secondary_suppression
from tasks.parquet_io import frame_to_table

PERIOD = "2025-08"


def firm(nib: str, kk: str, gg: str, va: float, lc: float = 10.0, sales: float = 100.0, workers: float = 10.0,
         hours: float = 1700.0, fa: float = 500.0) -> dict:  # fmt: skip
    return {
        "nib": nib, "kabkota_code": kk, "pdrb_group": gg, "value_added_idr": va, "labour_cost_idr": lc,
        "net_sales_idr": sales, "workers_avg_total": workers, "hours_worked": hours, "fixed_assets_avg_idr": fa,
    }  # fmt: skip


def key(kk: object, gg: object) -> tuple[str, str]:
    return (ALL if pd.isna(kk) else str(kk), ALL if pd.isna(gg) else str(gg))


def cell(out: pd.DataFrame, kk: str | None, gg: str | None) -> pd.Series:
    m = (out["kabkota_code"].fillna(ALL) == (kk or ALL)) & (out["pdrb_group"].fillna(ALL) == (gg or ALL))
    assert m.sum() == 1, (kk, gg)
    return out[m].iloc[0]


def test_p_percent_rule_by_hand() -> None:
    # VA 100, 5, 4: X - x1 - x2 = 4 < 0.10 * 100 -> unsafe; the second firm could estimate the first within 4%
    out = disclosure_aggregates(
        pd.DataFrame(
            [firm("1", "6401", "C", 100.0), firm("2", "6401", "C", 5.0), firm("3", "6401", "C", 4.0)]
        ),
        PERIOD,
    )
    c = cell(out, "6401", "C")
    assert c["suppressed"] and "p% rule on value_added_idr" in c["suppression_reason"]
    assert "aturan p% pada nilai tambah" in c["suppression_reason_id"]
    assert math.isnan(c["value_added_idr"]) and math.isnan(c["va_per_worker_idr"])
    assert c["n_companies"] == 3  # counts stay published
    # VA 100, 50, 20: 20 >= 10 -> safe; all other magnitudes equal -> safe
    out = disclosure_aggregates(
        pd.DataFrame(
            [firm("1", "6401", "C", 100.0), firm("2", "6401", "C", 50.0), firm("3", "6401", "C", 20.0)]
        ),
        PERIOD,
    )
    c = cell(out, "6401", "C")
    assert not c["suppressed"] and c["value_added_idr"] == 170.0
    assert c["va_per_worker_idr"] == pytest.approx(170.0 / 30.0)  # ratio of cell totals
    assert c["labour_share_pct"] == pytest.approx(100.0 * 30.0 / 170.0)


def test_p_percent_uses_absolute_values_for_negative_value_added() -> None:
    # signed total 100 - 95 + 4 = 9 would hide the dominance; absolute: 199 - 100 - 95 = 4 < 10 -> unsafe
    out = disclosure_aggregates(
        pd.DataFrame(
            [firm("1", "6401", "C", 100.0), firm("2", "6401", "C", -95.0), firm("3", "6401", "C", 4.0)]
        ),
        PERIOD,
    )
    assert cell(out, "6401", "C")["suppression_reason"] == "p% rule on value_added_idr"


def test_same_nib_is_one_contributor() -> None:
    rows = [firm("1", "6401", "C", 50.0), firm("1", "6401", "C", 50.0), firm("2", "6401", "C", 60.0)]
    out = disclosure_aggregates(pd.DataFrame(rows), PERIOD)
    c = cell(out, "6401", "C")
    assert c["n_companies"] == 2 and c["suppressed"]
    assert c["suppression_reason"] == "fewer than 3 companies"
    assert c["suppression_reason_id"] == "kurang dari 3 perusahaan"


def _grid(firms_per_cell: dict[tuple[str, str], int], va: float = 100.0) -> pd.DataFrame:
    rows, n = [], 0
    for (kk, gg), k in firms_per_cell.items():
        for i in range(k):
            n += 1
            rows.append(firm(f"{n:013d}", kk, gg, va + i, workers=10.0 + i))
    return pd.DataFrame(rows)


def test_secondary_suppression_protects_a_lone_cell_in_its_row_and_column() -> None:
    # 2 x 2 table; (6401, C) has 2 firms -> primary. Its row and column would reveal it by subtraction.
    df = _grid({("6401", "C"): 2, ("6401", "G"): 4, ("6402", "C"): 3, ("6402", "G"): 5})
    out = disclosure_aggregates(df, PERIOD)
    assert cell(out, "6401", "C")["suppression_reason"] == "fewer than 3 companies"
    sup = {key(r.kabkota_code, r.pdrb_group) for r in out.itertuples() if r.suppressed}
    # the complementary cells close a cycle: (6401,G), (6402,C), (6402,G) in the interior
    assert {("6401", "C"), ("6401", "G"), ("6402", "C"), ("6402", "G")} <= sup
    reasons = out.set_index(["kabkota_code", "pdrb_group"])["suppression_reason"].dropna().tolist()
    assert any(r == "secondary (protects 6401 x C)" for r in reasons)
    assert not cell(out, "6401", None)["suppressed"]  # the margins stay published
    assert cell(out, None, None)["value_added_idr"] == pytest.approx(float(df["value_added_idr"].sum()))
    assert_nothing_recoverable(out)


def test_a_row_with_one_cell_suppresses_its_margin() -> None:
    df = _grid({("6401", "C"): 2, ("6402", "C"): 3, ("6402", "G"): 3, ("6403", "C"): 3, ("6403", "G"): 4})
    out = disclosure_aggregates(df, PERIOD)
    assert cell(out, "6401", None)["suppressed"]  # row margin = the lone cell itself
    assert_nothing_recoverable(out)


def test_bridges_between_two_closed_blocks_are_broken() -> None:
    # Two suppressed 2x2 blocks joined by one suppressed cell: each line holds >= 2 suppressed cells, yet the
    # joining cell is a bridge and could be recomputed; the algorithm must close a cycle through it.
    present = {(r, c) for r in "1234*" for c in "abcd*"}
    pattern = {("1", "a"), ("1", "b"), ("2", "a"), ("2", "b"), ("3", "c"), ("3", "d"), ("4", "c"), ("4", "d"),
               ("2", "c")}  # fmt: skip
    cost = {c: 1.0 for c in present}
    added = secondary_suppression(present, pattern, cost)
    assert added and all(v == ("2", "c") for v in added.values())
    assert_pattern_safe(present, pattern | set(added))


def test_carried_suppression_from_the_previous_period() -> None:
    df = _grid({("6401", "C"): 4, ("6401", "G"): 4, ("6402", "C"): 4, ("6402", "G"): 4})
    first = disclosure_aggregates(df, PERIOD)
    assert not first["suppressed"].any()
    previous = first.copy()
    previous["period"] = "2025-07"
    m = (previous["kabkota_code"] == "6402") & (previous["pdrb_group"] == "G")
    previous.loc[m, "suppressed"] = True
    out = disclosure_aggregates(df, PERIOD, previous=previous)
    c = cell(out, "6402", "G")
    assert c["suppressed"] and c["suppression_reason"] == "carried from 2025-07"
    assert c["suppression_reason_id"] == "dibawa dari periode 2025-07"
    assert math.isnan(c["value_added_idr"])
    assert out["suppressed"].sum() >= 4  # and the pattern around it is completed
    assert_nothing_recoverable(out)


def test_quartiles_only_for_ten_companies_or_more() -> None:
    df = _grid({("6401", "C"): 10, ("6401", "G"): 9, ("6402", "C"): 10, ("6402", "G"): 9})
    out = disclosure_aggregates(df, PERIOD)
    c10, c9 = cell(out, "6401", "C"), cell(out, "6401", "G")
    assert not c10["suppressed"] and not c9["suppressed"]
    vapw = sorted(12.0 * (100.0 + i) / (10.0 + i) for i in range(10))
    assert c10["va_per_worker_annualised_median_idr"] == pytest.approx(float(np.quantile(vapw, 0.5)))
    assert c10["va_per_worker_annualised_p25_idr"] == pytest.approx(float(np.quantile(vapw, 0.25)))
    assert math.isnan(c9["va_per_worker_annualised_median_idr"])


def test_empty_period_and_schema() -> None:
    empty = disclosure_aggregates(pd.DataFrame(columns=list(firm("1", "6401", "C", 1.0))), PERIOD)
    assert empty.empty and list(empty.columns) == AGGREGATES_SCHEMA.names
    out = disclosure_aggregates(_grid({("6401", "C"): 2, ("6402", "C"): 3}), PERIOD)
    table = frame_to_table(out, AGGREGATES_SCHEMA)
    assert table.schema.field("value_added_idr").metadata[b"unit"] == b"IDR per month"


def _brute_force_bridges(cells: set) -> list:
    """A cell is a bridge when its row line and column line are disconnected without it."""
    out = []
    for e in sorted(cells):
        seen, todo = {("r", e[0])}, [("r", e[0])]
        while todo:
            side, name = todo.pop()
            for c in cells - {e}:
                if c[0 if side == "r" else 1] == name:
                    w = ("c", c[1]) if side == "r" else ("r", c[0])
                    if w not in seen:
                        seen.add(w)
                        todo.append(w)
        if ("c", e[1]) not in seen:
            out.append(e)
    return out


@settings(max_examples=200, deadline=None)
@given(st.sets(st.tuples(st.sampled_from("abcdef*"), st.sampled_from("uvwxyz*")), max_size=25))
def test_property_bridges_match_the_definition(cells: set) -> None:
    # the linear search must find exactly the cells a search per cell finds, in the same order
    assert _bridges(cells) == _brute_force_bridges(cells)


# --- independent checks used by the properties ---------------------------------------------------------
def assert_pattern_safe(present: set, suppressed: set) -> None:
    """No suppressed cell is determined by the line equations of the extended table (rank test)."""
    rows = sorted({c[0] for c in present})
    cols = sorted({c[1] for c in present})
    unknown = sorted(suppressed)
    pos = {c: i for i, c in enumerate(unknown)}
    eqs = []
    for r in rows:  # sum of interior cells - margin = 0
        eqs.append([(1.0 if c[1] != ALL else -1.0) if c[0] == r and c in pos else 0.0 for c in unknown])
    for k in cols:
        eqs.append([(1.0 if c[0] != ALL else -1.0) if c[1] == k and c in pos else 0.0 for c in unknown])
    a = np.array(eqs)
    rank = np.linalg.matrix_rank(a) if a.size else 0
    for c in unknown:
        e = np.zeros((1, len(unknown)))
        e[0, pos[c]] = 1.0
        assert np.linalg.matrix_rank(np.vstack([a, e])) > rank, f"suppressed cell {c} is recoverable"


def assert_nothing_recoverable(out: pd.DataFrame) -> None:
    kk = out["kabkota_code"].fillna(ALL)
    gg = out["pdrb_group"].fillna(ALL)
    present = set(zip(kk, gg, strict=True))
    suppressed = {c for c, s in zip(zip(kk, gg, strict=True), out["suppressed"], strict=True) if s}
    # every row/column line incl. margins: never exactly one unknown (plain subtraction)
    for key, idx in ((0, kk), (1, gg)):
        for line in set(idx):
            hidden = [c for c in present if c[key] == line and c in suppressed]
            assert len(hidden) != 1, f"line {line}: {hidden[0]} = margin - published cells"
    assert_pattern_safe(present, suppressed)
    for col in AGGREGATE_VALUE_COLUMNS:
        assert out.loc[out["suppressed"], col].isna().all(), col


def _independent_primary_ok(df: pd.DataFrame, kk: str, gg: str, rules: DisclosureRules) -> bool:
    m = pd.Series(True, index=df.index)
    if kk != ALL:
        m &= df["kabkota_code"] == kk
    if gg != ALL:
        m &= df["pdrb_group"] == gg
    per_nib = df[m].groupby("nib")[list(SUMMED_MAGNITUDES)].sum()
    if len(per_nib) < rules.min_companies:
        return False
    for mag in SUMMED_MAGNITUDES:
        x = sorted(per_nib[mag].abs().tolist(), reverse=True)
        if sum(x) - x[0] - x[1] < rules.p_percent / 100.0 * x[0] * (1 - 1e-12):
            return False
    return True


firm_strategy = st.tuples(
    st.integers(0, 30),  # NIB from a small pool: the same company sometimes reports twice
    st.sampled_from(["6401", "6402", "6471", "6472"]),
    st.sampled_from(["B", "C", "G", "M-N"]),
    st.integers(-200, 5000),  # VA, juta rupiah: negative values happen
    st.integers(0, 800),
    st.integers(1, 9000),
    st.integers(1, 300),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    firms=st.lists(firm_strategy, min_size=1, max_size=45),
    p=st.sampled_from([5.0, 10.0, 25.0]),
    k=st.sampled_from([3, 5]),
)
def test_property_published_cells_are_safe_and_suppressed_cells_unrecoverable(firms, p, k) -> None:
    df = pd.DataFrame(
        [firm(f"{nib:013d}", kk, gg, float(va), lc=float(lc), sales=float(s), workers=float(w), hours=w * 170.0,
              fa=float(s) * 3) for nib, kk, gg, va, lc, s, w in firms]
    )  # fmt: skip
    rules = DisclosureRules(min_companies=k, p_percent=p)
    out = disclosure_aggregates(df, PERIOD, rules)
    for r in out.itertuples():
        if not r.suppressed:
            cell_key = key(r.kabkota_code, r.pdrb_group)
            assert r.n_companies >= k
            assert _independent_primary_ok(df, *cell_key, rules), cell_key
            assert pd.isna(r.suppression_reason)
        else:
            assert r.suppression_reason and r.suppression_reason_id
    assert_nothing_recoverable(out)
    # what is published adds up to what was submitted
    tot = cell(out, None, None)
    if not tot["suppressed"]:
        assert tot["value_added_idr"] == pytest.approx(float(df["value_added_idr"].sum()))


@settings(max_examples=60, deadline=None)
@given(
    firms=st.lists(firm_strategy, min_size=1, max_size=40), prev_firms=st.lists(firm_strategy, max_size=40)
)
def test_property_carried_cells_stay_suppressed(firms, prev_firms) -> None:
    def make(rows):
        return pd.DataFrame(
            [firm(f"{n:013d}", kk, gg, float(va), float(lc), float(s), float(w), w * 170.0, float(s))
             for n, kk, gg, va, lc, s, w in rows],
            columns=list(firm("1", "6401", "C", 1.0)),
        )  # fmt: skip

    prev = disclosure_aggregates(make(prev_firms), "2025-07")
    out = disclosure_aggregates(make(firms), PERIOD, previous=prev)
    prev_sup = {key(r.kabkota_code, r.pdrb_group) for r in prev.itertuples() if r.suppressed}
    for r in out.itertuples():
        if key(r.kabkota_code, r.pdrb_group) in prev_sup:
            assert r.suppressed and "carried from 2025-07" in r.suppression_reason
    assert_nothing_recoverable(out)


@settings(max_examples=60, deadline=None)
@given(
    firms=st.lists(firm_strategy, min_size=1, max_size=45),
    workers_frac=st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.33]), min_size=45, max_size=45),
)
def test_property_cell_counts_and_sums_match_a_plain_groupby(firms, workers_frac) -> None:
    # the integer-keyed cells must equal grouping by the code strings: every cell, count and published sum
    df = pd.DataFrame(
        [firm(f"{nib:013d}", kk, gg, float(va), lc=float(lc), sales=float(s), workers=w + f, fa=float(s) * 3)
         for (nib, kk, gg, va, lc, s, w), f in zip(firms, workers_frac, strict=False)]
    )  # fmt: skip
    out = disclosure_aggregates(df, PERIOD, DisclosureRules(min_companies=1, p_percent=0.0))
    expected = set()
    for kk in [ALL, *df["kabkota_code"].unique()]:
        for gg in [ALL, *df["pdrb_group"].unique()]:
            m = pd.Series(True, index=df.index)
            if kk != ALL:
                m &= df["kabkota_code"] == kk
            if gg != ALL:
                m &= df["pdrb_group"] == gg
            if not m.any():
                continue
            expected.add((kk, gg))
            c = cell(out, None if kk == ALL else kk, None if gg == ALL else gg)
            assert c["n_companies"] == df.loc[m, "nib"].nunique()
            if not c["suppressed"]:
                for mag in SUMMED_MAGNITUDES:
                    assert c[mag] == pytest.approx(float(df.loc[m, mag].sum()), rel=1e-12, abs=1e-9)
    assert {key(k, g) for k, g in zip(out["kabkota_code"], out["pdrb_group"], strict=True)} == expected
    levels = out["level"].tolist()
    assert levels == sorted(levels, key=["kabkota_x_sector", "kabkota", "sector", "total"].index)
