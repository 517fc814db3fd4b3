"""The submission template: workbook structure, CSV header, and a filled copy accepted by the stage."""

from __future__ import annotations

import shutil

import pytest
from openpyxl import load_workbook

from schemas.submission import SUBMISSION_FIELDS
from tasks import template_workbook as tw
from tasks.sample_data import generate_frame


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return tw.write_template(tmp_path_factory.mktemp("tpl"))


def test_writes_xlsx_and_csv(written):
    xlsx, csv = written
    assert xlsx.name == tw.XLSX_NAME and xlsx.stat().st_size > 0
    assert csv.read_text(encoding="utf-8").strip().split(",") == [f.name for f in SUBMISSION_FIELDS]


def test_data_sheet_headers_formats_protection(written):
    wb = load_workbook(written[0])
    assert wb.sheetnames == [tw.GUIDE_SHEET, tw.DATA_SHEET, tw.CODES_SHEET]
    ws = wb[tw.DATA_SHEET]
    headers = [c.value for c in ws[1]]
    assert headers == [f.label_id for f in SUBMISSION_FIELDS]
    assert ws.freeze_panes == "A2"
    assert ws.protection.sheet and not ws.protection.password
    col = {f.name: i + 1 for i, f in enumerate(SUBMISSION_FIELDS)}
    assert ws.cell(1, 1).protection.locked  # header locked
    # Input cells take their column's style (what Excel gives every empty cell of the column).
    dims = {name: ws.column_dimensions[ws.cell(1, j).column_letter] for name, j in col.items()}
    assert not dims["net_sales"].protection.locked  # input cells editable
    assert dims["net_sales"].number_format == "#,##0"
    assert dims["workers_avg_total"].number_format == "0.0"
    assert dims["nib"].number_format == "@"  # codes stay text
    assert all(not d.protection.locked for d in dims.values())
    kab_letter = ws.cell(1, col["kabkota_code"]).column_letter
    kab_dv = next(
        dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(f"{kab_letter}2")
    )
    assert kab_dv.type == "list" and tw.CODES_SHEET in kab_dv.formula1


def test_codes_sheet_lists_kabkota_and_kbli_sections(written):
    ws = load_workbook(written[0])[tw.CODES_SHEET]
    kab = [r[0] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
    assert "6471 — Balikpapan" in kab and len(kab) == 10
    sections = [r[2] for r in ws.iter_rows(min_row=2, values_only=True) if r[2]]
    assert len(sections) == 21 and sections[1].startswith("B — ")
    assert any(dv.type == "list" for dv in ws.data_validations.dataValidation)  # the section picker


def test_guide_sheet_explains_every_field_in_indonesian(written):
    ws = load_workbook(written[0])[tw.GUIDE_SHEET]
    rows = {r[1]: r for r in ws.iter_rows(values_only=True) if r and r[1]}
    for f in SUBMISSION_FIELDS:
        label, name, meaning, unit, req, rule, example = rows[f.name]
        assert label == f.label_id and meaning and unit and req
    assert rows["net_sales"][4] == "Wajib"
    assert "seksi G" in rows["purch_goods_for_resale"][4]
    assert "13 angka" in rows["nib"][5]
    assert "tidak boleh negatif" in rows["wages_salaries"][5]


@pytest.mark.flow
def test_filled_template_is_accepted_by_the_stage(prefect_harness, written, tmp_path):
    from flows.settings import load_settings
    from flows.stage_submissions import submissions_stage
    from tasks.parquet_io import read_frame
    from tasks.storage import Storage

    row = generate_frame("2025-08", 1, 4).iloc[0].to_dict()
    row["kabkota_code"] = "6471 — Balikpapan"  # as the dropdown writes it
    row["nib"] = "9912345678901"
    wb = load_workbook(written[0])
    ws = wb[tw.DATA_SHEET]
    for j, f in enumerate(SUBMISSION_FIELDS, start=1):
        v = row[f.name]
        ws.cell(2, j, v.item() if hasattr(v, "item") else v)
    folder = tmp_path / "data" / "raw" / "submissions" / "2025-08"
    folder.mkdir(parents=True)
    wb.save(folder / "isian.xlsx")
    shutil.copy(written[0], folder / "kosong.xlsx")  # the untouched template: header only, not an error
    root = str(tmp_path / "data")
    out = submissions_stage(settings=load_settings(storage_root=root), storage_root=root, period="2025-08",
                            run_id="t")  # fmt: skip
    assert out["counts"]["accepted"] == 1 and out["counts"]["quarantined"] == 0, out
    df = read_frame(Storage(root), "processed/submissions/period=2025-08/part-0.parquet")
    assert df["nib"].tolist() == ["9912345678901"] and df["kabkota_code"].tolist() == ["6471"]
    assert df["source_file"].tolist() == ["isian.xlsx"] and df["source_sheet"].tolist() == ["Data"]


def test_filled_cells_take_their_column_style_and_files_do_not_leak_into_each_other():
    import io
    from datetime import date

    first = tw.workbook_bytes(
        [{"nib": "9912345678901", "net_sales": 2_500_000, "submitted_on": date(2025, 9, 3)}]
    )
    second = tw.workbook_bytes([{"nib": "9912345678902"}])
    ws = load_workbook(io.BytesIO(first))[tw.DATA_SHEET]
    col = {f.name: i + 1 for i, f in enumerate(SUBMISSION_FIELDS)}
    assert ws.cell(2, col["net_sales"]).number_format == "#,##0"
    assert ws.cell(2, col["submitted_on"]).number_format == "yyyy-mm-dd"  # not openpyxl's date-time
    assert ws.cell(2, col["nib"]).number_format == "@" and not ws.cell(2, col["nib"]).protection.locked
    ws2 = load_workbook(io.BytesIO(second))[tw.DATA_SHEET]
    assert ws2.cell(2, col["nib"]).value == "9912345678902"
    assert ws2.cell(2, col["net_sales"]).value is None and ws2.max_row == 2  # nothing left from the first
    empty = load_workbook(io.BytesIO(tw.workbook_bytes()))[tw.DATA_SHEET]
    assert empty.max_row == 1


def test_the_readers_skip_the_templates_guide_and_code_lists():
    """The reader ignores the template's own guide and codes sheets by name (one place: IGNORED_SHEETS)."""
    from tasks.submission_readers import IGNORED_SHEETS, _normalise

    assert {_normalise(tw.GUIDE_SHEET), _normalise(tw.CODES_SHEET)} <= IGNORED_SHEETS
    assert _normalise(tw.DATA_SHEET) not in IGNORED_SHEETS
