"""Validation rules one by one (hard reject vs soft flag), duplicates, and GX/pandas agreement."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from schemas.submission import SUBMISSION_FIELDS, pandas_dtype
from tasks import submission_validate as sv
from tasks.sample_data import generate_frame

PERIOD = "2025-08"


def typed(df: pd.DataFrame, file: str = "a.csv", order: int = 1) -> pd.DataFrame:
    """Generated rows in the dtypes the readers return, with provenance."""
    out = df.copy()
    for f in SUBMISSION_FIELDS:
        if f.dtype == "date":
            out[f.name] = pd.to_datetime(out[f.name]).astype("datetime64[s]")
        else:
            out[f.name] = out[f.name].astype(pandas_dtype(f))
    out["source_file"] = file
    out["source_sheet"] = pd.Series([pd.NA] * len(out), dtype="str")
    out["source_row"] = pd.Series(range(2, len(out) + 2), dtype="int64")
    out["file_sha256"] = "0" * 64
    out["file_order"] = order
    return out.reset_index(drop=True)


@pytest.fixture
def rows() -> pd.DataFrame:
    df = typed(generate_frame(PERIOD, 12, 11))
    # A clean baseline: no soft flags of its own, so each test sees only what it plants.
    df["chg_inventory_fg_wip"] = 0
    for c in ("purch_raw_materials", "purch_energy", "purch_services", "purch_goods_for_resale"):
        df[c] = (df["net_sales"] * 0.1).round().astype("Int64")
    df["kbli_code"] = "10431"
    df["hours_normal"] = df["workers_avg_total"] * 165.0
    df["hours_overtime"] = df["workers_avg_total"] * 10.0
    return df


def run(df: pd.DataFrame, **kw) -> sv.ValidationResult:
    return sv.validate_rows(df, PERIOD, use_gx=False, **kw)


def test_clean_rows_pass(rows):
    res = run(rows)
    assert res.failures.empty
    assert not res.rows[list(sv.FLAG_COLUMNS)].any().any()


HARD_CASES = [
    ("nib", "12345", "invalid_nib", "nib"),
    ("nib", pd.NA, "missing_required", "nib"),
    ("kbli_code", "1043", "invalid_kbli_code", "kbli_code"),
    ("kbli_code", "00123", "invalid_kbli", "kbli_code"),
    ("kabkota_code", "6371", "invalid_kabkota", "kabkota_code"),
    ("period", "2025-07", "wrong_period", "period"),
    ("period", "Agt-25", "invalid_period", "period"),
    ("net_sales", -5, "negative_value", "net_sales"),
    ("workers_pkwt", -1.0, "negative_value", "workers_pkwt"),
    ("workers_avg_total", 0.0, "not_positive", "workers_avg_total"),
    ("wages_salaries", pd.NA, "missing_required", "wages_salaries"),
]


@pytest.mark.parametrize(("column", "value", "code", "reported"), HARD_CASES)
def test_hard_rules_reject_and_name_the_column(rows, column, value, code, reported):
    rows.loc[3, column] = value
    res = run(rows)
    bad = res.failures[res.failures["_row_id"] == 3]
    hard = bad[bad["severity"] == "hard"]
    assert code in set(hard["reason_code"]), bad
    assert reported in set(hard["column"])
    assert res.rejected_ids == {3}
    label = next(f.label_id for f in SUBMISSION_FIELDS if f.name == reported)
    msg = hard.loc[hard["reason_code"] == code, "reason_id"].iloc[0]
    assert ("kirim ulang" in msg.lower()) or ("kirim" in msg.lower())
    assert label in msg or str(value) in msg or reported in ("kbli_code", "period")


def test_workers_sum_message_is_exact(rows):
    rows.loc[0, ["workers_avg_total", "workers_pkwtt", "workers_pkwt", "workers_outsourced", "workers_unpaid"]] = [
        50.0, 30.0, 12.0, 10.0, 0.0,
    ]  # fmt: skip
    rows.loc[0, "hours_normal"] = 50 * 165.0
    res = run(rows)
    f = res.failures[res.failures["reason_code"] == "workers_sum_mismatch"]
    assert f["_row_id"].tolist() == [0]
    assert f["reason_id"].iloc[0] == (
        "Jumlah pekerja per kategori (PKWTT+PKWT+alih daya+tidak dibayar = 52) tidak sama dengan total (50). "
        "Perbaiki salah satu angka lalu kirim ulang."
    )


def test_workers_sum_tolerates_half_a_person(rows):
    rows.loc[0, "workers_outsourced"] = rows.loc[0, "workers_outsourced"] + 0.5
    assert run(rows).failures.empty


def test_hours_above_744_per_worker_is_rejected(rows):
    rows.loc[1, "hours_normal"] = rows.loc[1, "workers_avg_total"] * 800
    res = run(rows)
    assert "hours_impossible" in set(res.failures.loc[res.failures["severity"] == "hard", "reason_code"])
    assert res.rejected_ids == {1}


def test_goods_for_resale_required_only_for_trade(rows):
    rows["purch_goods_for_resale"] = pd.array([pd.NA] * len(rows), dtype="Int64")
    rows.loc[2, "kbli_code"] = "46100"  # wholesale: section G
    res = run(rows)
    assert res.rejected_ids == {2}
    assert res.failures["column"].tolist() == ["purch_goods_for_resale"]


def test_negative_value_added_is_flagged_not_rejected(rows):
    rows.loc[4, "purch_raw_materials"] = rows.loc[4, "net_sales"] * 2
    res = run(rows)
    assert res.rejected_ids == set()
    f = res.failures
    assert f["reason_code"].tolist() == ["negative_value_added"] and f["severity"].tolist() == ["soft"]
    assert bool(res.rows.loc[4, "flag_negative_va"]) and res.rows.loc[4, "flags"] == "negative_value_added"


def test_hours_bounds_are_sector_specific_and_configurable(rows):
    rows.loc[5, "hours_normal"] = rows.loc[5, "workers_avg_total"] * 220  # mining-like roster
    res = run(rows)
    assert res.failures["reason_code"].tolist() == ["hours_normal_high"]
    assert "177,1" in res.failures["reason_id"].iloc[0]  # 40 h x 31/7 weeks in August
    rows.loc[5, "kbli_code"] = "05100"  # coal mining: the longer regime
    assert run(rows).failures.empty
    assert not run(rows.assign(kbli_code="10431"), hours_bounds_week={"C": (60.0, 80.0)}).failures.size


def test_wage_below_umk_only_when_configured(rows):
    kab = rows.loc[6, "kabkota_code"]
    employees = float(rows.loc[6, "workers_pkwtt"] + rows.loc[6, "workers_pkwt"])
    rows.loc[6, "wages_salaries"] = int(employees * 1_000_000)
    assert run(rows).failures.empty
    umk = pd.DataFrame({"kabkota_code": [kab], "year": [2025], "umk_idr_per_month": [3_500_000]})
    res = run(rows, umk_table=umk)
    assert res.failures["reason_code"].tolist() == ["wage_below_umk"]
    assert res.rejected_ids == set() and bool(res.rows.loc[6, "flag_below_umk"])


def test_va_per_worker_jump_against_previous_period(rows):
    prev = sv.previous_va_per_worker(rows.assign(period="2025-07"))
    rows.loc[7, "net_sales"] = rows.loc[7, "net_sales"] * 3
    res = run(rows, previous=prev)
    assert res.failures["reason_code"].tolist() == ["va_per_worker_jump"]
    assert res.failures["_row_id"].tolist() == [7]
    assert "2025-07" in res.failures["reason_id"].iloc[0]


def test_cell_error_from_reader_rejects_once(rows):
    rows.loc[8, "workers_avg_total"] = pd.NA
    cell = pd.DataFrame({
        "source_file": ["a.csv"], "source_sheet": pd.Series([pd.NA], dtype="str"), "source_row": [10],
        "column": ["workers_avg_total"], "value": ["lima puluh"], "reason_code": ["not_a_number"],
        "reason_id": ["Baris 10 ... bukan angka"], "reason_en": ["Row 10 ... not a number"],
    })  # fmt: skip
    res = run(rows, cell_errors=cell)
    f = res.failures[res.failures["column"] == "workers_avg_total"]
    assert f["reason_code"].tolist() == ["not_a_number"] and f["_row_id"].tolist() == [8]
    assert res.rejected_ids == {8}


def test_kabkota_dropdown_entry_is_read_as_its_code(rows):
    rows.loc[0, "kabkota_code"] = "6471 — Balikpapan"
    res = run(rows)
    assert res.failures.empty and res.rows.loc[0, "kabkota_code"] == "6471"


def test_every_field_rule_has_a_check():
    checks = sv.build_checks(PERIOD)
    ids = {c.rule_id for c in checks}
    for f in SUBMISSION_FIELDS:
        if f.required:
            assert f"{f.rule_id}.required" in ids
        if f.min_value is not None:
            assert f"{f.rule_id}.range" in ids
    assert len(ids) == len(checks)  # rule ids are unique: GX results map back to checks


# --- duplicates ---------------------------------------------------------------------------------------
def _dupes(rows: pd.DataFrame) -> tuple[sv.ValidationResult, pd.DataFrame]:
    res = run(rows)
    return res, sv.resolve_duplicates(res.rows, res.rejected_ids)


def test_newest_submission_wins_by_date_then_file_order(rows):
    a = rows.iloc[[0]].assign(source_file="old.xlsx", file_order=5, source_row=2)
    b = rows.iloc[[0]].assign(source_file="new.xlsx", file_order=1, source_row=2)
    b["submitted_on"] = b["submitted_on"] + pd.Timedelta(days=1)
    _, sup = _dupes(pd.concat([a, b], ignore_index=True))
    assert sup["_row_id"].tolist() == [0]  # the later date wins although its file came first
    assert (
        sup["reason_id"].iloc[0].startswith("Digantikan oleh kiriman yang lebih baru (file new.xlsx baris 2)")
    )
    same_day = pd.concat([a, b.assign(submitted_on=a["submitted_on"].iloc[0])], ignore_index=True)
    _, sup = _dupes(same_day)
    assert sup["_row_id"].tolist() == [1]  # same date: the file the manifest saw later (order 5) wins


def test_rejected_resubmission_does_not_displace_valid_row(rows):
    a = rows.iloc[[0]].assign(source_file="first.xlsx", file_order=1)
    b = rows.iloc[[0]].assign(source_file="second.xlsx", file_order=2, kabkota_code="6371")
    res, sup = _dupes(pd.concat([a, b], ignore_index=True))
    assert res.rejected_ids == {1} and sup.empty


def test_no_dates_falls_back_to_file_order(rows):
    a = rows.iloc[[0]].assign(source_file="x.csv", file_order=2)
    b = rows.iloc[[0]].assign(source_file="y.csv", file_order=3)
    both = pd.concat([a, b], ignore_index=True)
    both["submitted_on"] = pd.NaT
    _, sup = _dupes(both)
    assert sup["_row_id"].tolist() == [0]


# --- Great Expectations ----------------------------------------------------------------------------------
def test_gx_suite_and_masks_agree(rows, tmp_path):
    rows.loc[0, "nib"] = "12"
    rows.loc[1, "kabkota_code"] = "6371"
    rows.loc[2, "workers_pkwt"] = rows.loc[2, "workers_pkwt"] + 3
    rows.loc[3, "purch_raw_materials"] = rows.loc[3, "net_sales"] * 2
    res = sv.validate_rows(rows, PERIOD, docs_dir=tmp_path)
    assert res.diagnostics == []
    by_rule = {r["rule_id"]: r for r in res.gx_results}
    assert set(by_rule) == {c.rule_id for c in sv.build_checks(PERIOD)}
    assert by_rule["SUB_NIB.format"]["sample_row_ids"] == [0]
    assert by_rule["SUB_KABKOTA_CODE.allowed"]["sample_row_ids"] == [1]
    assert by_rule["SUB_WORKERS_SUM"]["sample_row_ids"] == [2]
    assert by_rule["SUB_VA_NEGATIVE"]["unexpected_count"] == 1
    assert "index.html" in res.docs_files
    assert (tmp_path / "gx").is_dir()  # GX's working files stay where they were put
    assert not (Path(__file__).resolve().parents[1] / "gx").exists()


def test_gx_key_follows_the_values_rules_and_period(rows):
    res = run(rows)
    gdf = sv.gx_frame(res)
    assert set(gdf.columns) == {sv.ROW_ID} | {c.target for c in res.checks}
    key = sv.gx_digest(gdf, res.checks, PERIOD)
    assert key == sv.gx_digest(sv.gx_frame(run(rows.copy())), res.checks, PERIOD)  # same data, same key
    changed = rows.copy()
    changed.loc[5, "net_sales"] = changed.loc[5, "net_sales"] + 1
    assert sv.gx_digest(sv.gx_frame(run(changed)), res.checks, PERIOD) != key
    assert sv.gx_digest(gdf, res.checks[:-1], PERIOD) != key
    assert sv.gx_digest(gdf, res.checks, "2025-09") != key


def test_with_gx_reports_disagreement_and_keeps_the_masks(rows):
    rows.loc[0, "nib"] = "12"
    res = run(rows)
    assert res.mask_counts["SUB_NIB.format"] == 1 and res.gx_results == [] and res.docs_files == {}
    gx = [
        {"rule_id": "SUB_NIB.format", "exception": False, "unexpected_count": 2},
        {"rule_id": "SUB_KBLI_CODE.format", "exception": True, "unexpected_count": 0},
        {"rule_id": "SUB_WORKERS_SUM", "exception": False, "unexpected_count": 0},
    ]
    out = sv.with_gx(res, gx, {"index.html": b"<html>"})
    assert out.diagnostics == [
        "GX and pandas disagree on SUB_NIB.format: GX 2, pandas 1; the pandas mask decided",
        "GX expectation SUB_KBLI_CODE.format raised an exception; the pandas mask was used",
    ]
    assert out.docs_files == {"index.html": b"<html>"} and out.gx_results == gx
    pd.testing.assert_frame_equal(out.failures, res.failures)
    assert res.diagnostics == []  # the pandas-only result is not modified
