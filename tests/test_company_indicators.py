"""Company indicators against hand computations (the literal numbers below were worked out by hand)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.company_indicators import (
    compute_company_indicators,
    load_deflator_table,
    load_umk_table,
    lookup_deflator,
    nib_codes,
)
from tests.company_fixtures import base_row, frame

# base_row: sales 100 juta + other income 5 juta - stock change 2 juta - (30 + 5 + 8 + 0) juta = VA 60 juta;
# LC = 20 + 3 + 2 = 25 juta; 10 workers; hours 1600 + 100 = 1700; FA (400 + 380) / 2 = 390 juta.


def one(**overrides) -> pd.Series:
    return compute_company_indicators(frame([base_row(**overrides)])).iloc[0]


def test_every_indicator_of_the_base_row_by_hand() -> None:
    r = one()
    assert r["value_added_idr"] == 60_000_000
    assert r["labour_cost_idr"] == 25_000_000
    assert r["net_sales_idr"] == 100_000_000
    assert r["hours_worked"] == 1700.0
    assert r["fixed_assets_avg_idr"] == 390_000_000.0
    assert r["va_per_worker_idr"] == 6_000_000.0
    assert r["va_per_worker_annualised_idr"] == 72_000_000.0
    assert r["va_per_hour_idr"] == pytest.approx(35_294.117647, rel=1e-9)  # 60 000 000 / 1700
    assert r["labour_cost_per_worker_idr"] == 2_500_000.0
    assert r["wage_per_employee_idr"] == 2_000_000.0  # 20 juta / (6 PKWTT + 4 PKWT)
    assert r["labour_cost_competitiveness"] == pytest.approx(2.4)  # 60 / 25
    assert r["labour_share_pct"] == pytest.approx(41.666666667)  # 100 * 25 / 60
    assert r["capital_productivity_annualised"] == pytest.approx(1.846153846)  # 12 * 60 / 390
    assert r["capital_intensity_idr_per_worker"] == 39_000_000.0
    assert r["va_ratio_pct"] == pytest.approx(60.0)
    assert r["price_basis"] == "nominal"
    assert r["value_added_real_idr"] == 60_000_000.0
    assert r["unit_labour_cost"] == pytest.approx(0.416666667)  # 25 / 60
    assert math.isnan(r["deflator_2010_100"])
    assert r["base_period"] == "2025-08"
    assert r["productivity_index_base"] == 100.0
    assert r["productivity_index_chain"] == 100.0
    assert math.isnan(r["productivity_index_prev"])
    assert not r["flag_negative_va"] and not r["flag_zero_hours"] and not r["flag_missing_input"]
    assert pd.isna(r["flag_below_umk"])  # no UMK table configured
    assert r["source_row"] == 2 and r["source_file"].endswith("contoh.xlsx")


def test_negative_value_added_stays_in_and_is_flagged() -> None:
    r = one(purch_raw_materials=100_000_000)  # 100 + 5 - 2 - 100 - 5 - 8 = -10 juta
    assert r["value_added_idr"] == -10_000_000
    assert r["flag_negative_va"]
    assert r["va_per_worker_idr"] == -1_000_000.0
    assert r["va_per_worker_annualised_idr"] == -12_000_000.0
    assert r["labour_cost_competitiveness"] == pytest.approx(-0.4)  # -10 / 25
    assert r["va_ratio_pct"] == pytest.approx(-10.0)
    assert math.isnan(r["labour_share_pct"])  # a share of a negative VA means nothing
    assert math.isnan(r["unit_labour_cost"])
    assert math.isnan(r["productivity_index_base"])


def test_zero_fixed_assets_gives_null_not_inf() -> None:
    r = one(fixed_assets_nbv_open=0, fixed_assets_nbv_close=0)
    assert r["flag_zero_fixed_assets"]
    assert math.isnan(r["capital_productivity_annualised"])
    assert r["capital_intensity_idr_per_worker"] == 0.0


def test_zero_hours_gives_null_per_hour() -> None:
    r = one(hours_normal=0.0, hours_overtime=0.0)
    assert r["flag_zero_hours"]
    assert math.isnan(r["va_per_hour_idr"])
    assert r["va_per_worker_idr"] == 6_000_000.0


def test_zero_labour_cost_zero_sales_zero_workers() -> None:
    r = one(wages_salaries=0, employer_social_contrib=0, other_benefits=0)
    assert r["flag_zero_labour_cost"] and math.isnan(r["labour_cost_competitiveness"])
    r = one(net_sales=0, other_operating_income=70_000_000)  # 0 + 70 - 2 - 43 = 25 juta
    assert r["value_added_idr"] == 25_000_000
    assert r["flag_zero_sales"] and math.isnan(r["va_ratio_pct"])
    r = one(workers_avg_total=0.0, workers_pkwtt=0.0, workers_pkwt=0.0)
    assert r["flag_zero_workers"]
    assert math.isnan(r["va_per_worker_idr"]) and math.isnan(r["wage_per_employee_idr"])
    assert math.isnan(r["capital_intensity_idr_per_worker"])
    out = compute_company_indicators(
        frame([base_row(hours_normal=0.0, hours_overtime=0.0, workers_avg_total=0.0)])
    )
    floats = out.select_dtypes("float64")
    assert not floats.isin([math.inf, -math.inf]).any().any()


def test_optional_items_count_as_zero_required_items_do_not() -> None:
    r = one(other_operating_income=None, chg_inventory_fg_wip=None, other_benefits=None)
    assert r["value_added_idr"] == 57_000_000  # 100 - 30 - 5 - 8
    assert r["labour_cost_idr"] == 23_000_000  # 20 + 3
    assert not r["flag_missing_input"]
    r = one(purch_energy=None)
    assert pd.isna(r["value_added_idr"]) and r["flag_missing_input"]
    assert math.isnan(r["va_per_worker_idr"])


def test_real_terms_with_a_deflator(tmp_path: Path) -> None:
    p = tmp_path / "deflator.csv"
    p.write_text(
        "pdrb_group,period,deflator_2010_100,source\n"
        "C,2025-08,120,synthetic test deflator\n"
        "*,2025,150,synthetic all-groups\n",
        encoding="utf-8",
    )
    defl = load_deflator_table(str(p))
    out = compute_company_indicators(
        frame([base_row(), base_row(nib="2234567890123", pdrb_group="G", kbli_section="G")]), deflators=defl
    )
    c, g = out.iloc[0], out.iloc[1]
    assert c["price_basis"] == "constant 2010 prices"
    assert c["deflator_2010_100"] == 120.0 and c["deflator_source"] == "synthetic test deflator"
    assert c["value_added_real_idr"] == pytest.approx(50_000_000.0)  # 60 juta * 100 / 120
    assert c["unit_labour_cost"] == pytest.approx(0.5)  # 25 / 50
    assert g["deflator_2010_100"] == 150.0  # falls back to the "*" row of the year
    assert g["value_added_real_idr"] == pytest.approx(40_000_000.0)  # 60 * 100 / 150
    assert c["labour_cost_competitiveness"] == pytest.approx(2.4)  # same-month ratio stays nominal


def test_deflator_lookup_priority() -> None:
    defl = pd.DataFrame(
        {
            "pdrb_group": ["C", "C", "*", "*"],
            "period": ["2025-08", "2025", "2025-07", "2025"],
            "deflator_2010_100": [1.0, 2.0, 3.0, 4.0],
            "source": ["a", "b", "c", "d"],
        }
    )
    v, s = lookup_deflator(
        pd.Series(["C", "C", "G", "G", "G"]),
        pd.Series(["2025-08", "2025-07", "2025-07", "2025-09", "2024-01"]),
        defl,
    )
    assert v.tolist()[:4] == [1.0, 2.0, 3.0, 4.0]
    assert math.isnan(v.iloc[4]) and s.iloc[4] is None


def test_umk_flag(tmp_path: Path) -> None:
    p = tmp_path / "umk.csv"
    p.write_text(
        "kabkota_code,year,umk_idr_per_month\n6472,2025,3500000\n6401,2025,1500000\n", encoding="utf-8"
    )
    umk = load_umk_table(str(p))
    out = compute_company_indicators(
        frame(
            [
                base_row(),
                base_row(nib="2234567890123", kabkota_code="6401"),
                base_row(nib="3234567890123", kabkota_code="6474"),
            ]
        ),
        umk=umk,
    )
    assert out["umk_idr_per_month"].iloc[0] == 3_500_000.0
    assert out["flag_below_umk"].iloc[0] is True or out["flag_below_umk"].iloc[0] == True  # noqa: E712
    assert out["flag_below_umk"].iloc[1] == False  # noqa: E712  2 juta >= 1.5 juta
    assert pd.isna(out["flag_below_umk"].iloc[2])  # no UMK row for 6474


def _history(*p_by_period: tuple[str, int]) -> pd.DataFrame:
    # 10 workers each; purchases fixed at 43 juta and other items 5 - 2 juta, so VA = sales - 40 juta
    return frame([base_row(period=per, net_sales=va + 40_000_000) for per, va in p_by_period])


def test_productivity_indices_previous_base_and_chain() -> None:
    hist = _history(("2025-06", 50_000_000), ("2025-07", 40_000_000))  # P = 5 juta, 4 juta per worker
    r = compute_company_indicators(frame([base_row()]), history=hist).iloc[0]  # P = 6 juta
    assert r["base_period"] == "2025-06"
    assert r["productivity_index_prev"] == pytest.approx(150.0)  # 6 / 4
    assert r["productivity_index_base"] == pytest.approx(120.0)  # 6 / 5
    assert r["productivity_index_chain"] == pytest.approx(120.0)  # (4 / 5) * (6 / 4) * 100


def test_indices_with_a_gap_and_with_a_negative_link() -> None:
    gap = _history(("2025-06", 50_000_000))
    r = compute_company_indicators(frame([base_row()]), history=gap).iloc[0]
    assert math.isnan(r["productivity_index_prev"])  # July missing
    assert r["productivity_index_base"] == pytest.approx(120.0)
    assert r["productivity_index_chain"] == pytest.approx(120.0)
    neg = _history(("2025-06", 50_000_000), ("2025-07", -10_000_000))
    r = compute_company_indicators(frame([base_row()]), history=neg).iloc[0]
    assert math.isnan(r["productivity_index_prev"])
    assert r["productivity_index_base"] == pytest.approx(120.0)
    assert math.isnan(r["productivity_index_chain"])  # the chain broke at July


def test_indices_in_real_terms() -> None:
    defl = pd.DataFrame(
        {"pdrb_group": ["C", "C"], "period": ["2025-07", "2025-08"], "deflator_2010_100": [100.0, 120.0],
         "source": ["t", "t"]}
    )  # fmt: skip
    hist = _history(("2025-07", 50_000_000))  # real P = 5 juta
    r = compute_company_indicators(frame([base_row()]), history=hist, deflators=defl).iloc[0]
    assert r["productivity_index_prev"] == pytest.approx(100.0)  # 6 juta / 1.2 = 5 juta real


def test_history_rows_of_the_current_period_are_ignored() -> None:
    hist = _history(("2025-07", 40_000_000), ("2025-08", 1_000_000))
    r = compute_company_indicators(frame([base_row()]), history=hist).iloc[0]
    assert r["productivity_index_prev"] == pytest.approx(150.0)


def _reference_indices(rows: pd.DataFrame, period: str) -> dict[str, tuple]:
    """Indices by the definition, one company at a time (independent of the vectorised code)."""
    out = {}
    for nib, g in rows.groupby("nib"):
        by_period = {}
        for per, m in g.groupby("period"):
            va = (
                float((m["net_sales"] - 40_000_000).sum())
                if m["workers_avg_total"].notna().all()
                else math.nan
            )
            w = float(m["workers_avg_total"].sum())
            by_period[per] = va / w if w else math.nan
        if period not in by_period:
            continue
        pers = sorted(by_period)
        ps = [by_period[q] for q in pers]
        chain = 100.0 if ps[0] > 0 else math.nan
        for a, b in zip(ps, ps[1:], strict=False):  # the current period is the latest one
            chain = chain * b / a if a > 0 and b > 0 else math.nan
        p = by_period[period]
        prev = by_period.get(str(pd.Period(period, freq="M") - 1), math.nan)
        idx_prev = 100.0 * p / prev if p > 0 and prev > 0 else math.nan
        idx_base = 100.0 * p / ps[0] if p > 0 and ps[0] > 0 else math.nan
        out[nib] = (pers[0], idx_prev, idx_base, chain)
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),  # company: a small pool, so one company has several months (and duplicates)
            st.sampled_from(["2025-05", "2025-06", "2025-07", "2025-08"]),  # gaps and disorder happen
            st.integers(-20, 80),  # VA in juta: negative and zero links happen
            st.sampled_from([0.0, 4.0, 10.0, 12.5, math.nan]),  # workers: zero and missing happen
        ),
        min_size=1,
        max_size=30,
    )
)
def test_property_indices_match_the_definition(rows: list) -> None:
    df = frame(
        [base_row(nib=f"{n:013d}", period=per, net_sales=va * 1_000_000 + 40_000_000, workers_avg_total=w,
                  source_row=i + 2) for i, (n, per, va, w) in enumerate(rows)]
    )  # fmt: skip
    current = df[df["period"] == "2025-08"].reset_index(drop=True)
    if current.empty:
        return
    history = df[df["period"] != "2025-08"]
    out = compute_company_indicators(current, history=history)
    want = _reference_indices(df, "2025-08")
    for r in out.itertuples():
        base, prev, base_idx, chain = want[r.nib]
        assert r.base_period == base
        for got, exp in ((r.productivity_index_prev, prev), (r.productivity_index_base, base_idx),
                         (r.productivity_index_chain, chain)):  # fmt: skip
            assert (math.isnan(got) and math.isnan(exp)) or got == pytest.approx(exp, rel=1e-9), r.nib


def testnib_codes_are_one_to_one_with_the_strings() -> None:
    digits = nib_codes(pd.Series(["0000000000001", "1234567890123", "0000000000001"], dtype="str"))
    assert digits[0] == digits[2] and len(set(digits.tolist())) == 2
    # not 13 ASCII digits: "+000000000001" and "1" would both cast to 1, so these are factorised
    mixed = nib_codes(pd.Series(["0000000000001", "+000000000001", "1", None, "0000000000001"], dtype="str"))
    assert mixed[3] == -1 and mixed[0] == mixed[4] and len({mixed[0], mixed[1], mixed[2]}) == 3


def test_indices_with_nibs_that_are_not_13_digits() -> None:
    hist = frame(
        [base_row(nib="A1", period="2025-07", net_sales=80_000_000),  # P = 4 juta
         base_row(nib="1", period="2025-07", net_sales=90_000_000)]  # P = 5 juta
    )  # fmt: skip
    cur = frame([base_row(nib="+1"), base_row(nib="A1"), base_row(nib="1")])  # P = 6 juta each
    out = compute_company_indicators(cur, history=hist)
    assert math.isnan(out["productivity_index_prev"].iloc[0])  # "+1" is a new company, not "1"
    assert out["productivity_index_prev"].iloc[1] == pytest.approx(150.0)  # 6 / 4
    assert out["productivity_index_prev"].iloc[2] == pytest.approx(120.0)  # 6 / 5
    assert out["base_period"].tolist() == ["2025-08", "2025-07", "2025-07"]
