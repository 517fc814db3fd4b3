"""Submission readers on good files in the shapes people send (tasks/submission_readers.py)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from schemas.submission import (
    PROVENANCE_FIELDS,
    SUBMISSION_FIELDS,
    field,
    header_lookup,
    kbli_section_of,
    normalise_header,
    pandas_dtype,
    required_fields,
)
from tasks.storage import Storage
from tasks.submission_manifest import load_manifest, manifest_path
from tasks.submission_readers import match_header, neutralise, read_period

PERIOD = "2025-08"
FOLDER = f"raw/submissions/{PERIOD}"
FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
LABELS = [f.label_id for f in SUBMISSION_FIELDS]


def good_row(i: int = 0) -> dict[str, str]:
    """One synthetic company month (values invented for tests, not real figures)."""
    return {
        "nib": f"{9100000000000 + i}",
        "company_name": f"PT Sintetis {i}",
        "kbli_code": "10110",
        "kabkota_code": "6471",
        "contact_email": f"pic{i}@contoh.test",
        "period": "2025-08",
        "submitted_on": "03/09/2025",
        "net_sales": "2.500.000.000",
        "other_operating_income": "0",
        "chg_inventory_fg_wip": "-10.000.000",
        "purch_raw_materials": "1.000.000.000",
        "purch_energy": "200.000.000",
        "purch_services": "100.000.000",
        "purch_goods_for_resale": "",
        "wages_salaries": "500.000.000",
        "employer_social_contrib": "50.000.000",
        "other_benefits": "0",
        "workers_avg_total": "50",
        "workers_pkwtt": "40",
        "workers_pkwt": "6",
        "workers_outsourced": "4",
        "workers_unpaid": "0",
        "workers_female": "12,5",
        "hours_normal": "8.650",
        "hours_overtime": "400",
        "fixed_assets_nbv_open": "",
        "fixed_assets_nbv_close": "",
        "depreciation": "20.000.000",
        "capex": "0",
    }


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    sep: str = ";",
    encoding: str = "utf-8",
    headers: list[str] | None = None,
    names: list[str] | None = None,
) -> bytes:
    names = names or [f.name for f in SUBMISSION_FIELDS]
    headers = headers or [field(n).label_id for n in names]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    w.writerow(headers)
    for r in rows:
        w.writerow([r.get(n, "") for n in names])
    return buf.getvalue().encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list[object]]], merges: dict[str, list[str]] | None = None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, 1):
            for c, v in enumerate(row, 1):
                if v is not None:
                    ws.cell(row=r, column=c, value=v)
        for rng in (merges or {}).get(title, []):
            ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def put(storage: Storage, name: str, data: bytes) -> None:
    storage.write_bytes(f"{FOLDER}/{name}", data)


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path / "data")


def test_spec_lists_every_field_in_order_with_units():
    names = [f.name for f in SUBMISSION_FIELDS]
    assert names[:7] == [
        "nib",
        "company_name",
        "kbli_code",
        "kabkota_code",
        "contact_email",
        "period",
        "submitted_on",
    ]
    assert names[-4:] == ["fixed_assets_nbv_open", "fixed_assets_nbv_close", "depreciation", "capex"]
    assert field("net_sales").unit == "IDR" and field("net_sales").dtype == "int64"
    assert field("chg_inventory_fg_wip").min_value is None  # signed
    assert field("workers_female").dtype == "float64" and not field("workers_female").required
    assert field("purch_goods_for_resale").extra["required_if_section"] == "G"
    assert "fixed_assets_nbv_open" not in required_fields() and "depreciation" in required_fields()
    assert [p.name for p in PROVENANCE_FIELDS][:4] == [
        "source_file",
        "source_sheet",
        "source_row",
        "file_sha256",
    ]


def test_header_lookup_and_kbli_sections():
    lookup = header_lookup()
    assert lookup[normalise_header("Nomor Induk Berusaha")] == "nib"
    assert lookup[normalise_header("Jumlah Tenaga Kerja")] == "workers_avg_total"
    assert lookup[normalise_header("  PENJUALAN   bersih. ")] == "net_sales"
    assert match_header("Penjualan Bersih (Rp)") == "net_sales"
    assert match_header("Nomor Induk Berusaha (NIB)") == "nib"
    assert match_header("Kode Kabupaten/Kota") == "kabkota_code"
    assert match_header("Catatan") is None
    sections = kbli_section_of(pd.Series(["10110", "47111", "01111", "99999", "1011", None, "00111"]))
    assert sections.tolist()[:4] == ["C", "G", "A", "U"]
    assert sections.isna().tolist()[4:] == [True, True, True]


def test_neutralise():
    assert neutralise('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert neutralise("PT Aman") == "PT Aman"
    s = neutralise(pd.Series(["+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", " =1", "ok", None]))
    assert s.tolist()[:5] == ["'+cmd|' /C calc'!A0", "'@SUM(A1)", "'-2+3", "' =1", "ok"]
    assert pd.isna(s.iloc[5])


def test_semicolon_csv_with_bom_and_indonesian_numbers(storage):
    data = csv_bytes([good_row(0), good_row(1)], sep=";", encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    put(storage, "pt sintetis.csv", data)
    res = read_period(storage, PERIOD)
    assert res.file_errors.empty and res.cell_errors.empty
    rows = res.rows
    assert len(rows) == 2
    r = rows.iloc[0]
    assert r["nib"] == "9100000000000" and r["kbli_code"] == "10110" and r["period"] == "2025-08"
    assert r["net_sales"] == 2_500_000_000 and r["chg_inventory_fg_wip"] == -10_000_000
    assert r["workers_female"] == 12.5 and r["hours_normal"] == 8650.0
    assert pd.isna(r["purch_goods_for_resale"]) and pd.isna(r["fixed_assets_nbv_open"])
    assert r["submitted_on"] == pd.Timestamp("2025-09-03")
    assert rows["source_row"].tolist() == [2, 3]
    assert rows["source_sheet"].isna().all()
    assert rows["file_sha256"].iloc[0] == hashlib.sha256(data).hexdigest()
    assert rows["file_order"].tolist() == [1, 1]
    [rec] = res.files
    assert (rec.file, rec.format, rec.status, rec.rows_read, rec.size_bytes) == (
        "pt sintetis.csv",
        "csv",
        "read",
        2,
        len(data),
    )


def test_rows_dtypes_are_the_contract(storage):
    put(storage, "a.csv", csv_bytes([good_row()], sep=","))
    rows = read_period(storage, PERIOD).rows
    expected = {f.name: pandas_dtype(f) for f in SUBMISSION_FIELDS}
    expected.update(
        source_file="str", source_sheet="str", source_row="int64", file_sha256="str", file_order="int64"
    )
    assert list(rows.columns) == list(expected)
    assert {c: str(rows[c].dtype) for c in rows.columns} == expected
    empty = read_period(Storage(storage.root + "-none"), PERIOD).rows
    assert list(empty.columns) == list(expected) and len(empty) == 0


def test_english_headers_and_field_names_comma_csv(storage):
    en = [f.label_en for f in SUBMISSION_FIELDS]
    put(storage, "en.csv", csv_bytes([good_row()], sep=",", headers=en))
    put(storage, "names.csv", csv_bytes([good_row(2)], sep=",", headers=[f.name for f in SUBMISSION_FIELDS]))
    res = read_period(storage, PERIOD)
    assert res.file_errors.empty
    assert sorted(res.rows["nib"]) == ["9100000000000", "9100000000002"]


def test_blank_lines_keep_row_numbers_and_many_companies(storage):
    head, *lines = csv_bytes([good_row(i) for i in range(5)]).decode().splitlines()
    text = "\n".join([head, lines[0], "", ";;;", lines[1], *lines[2:]]) + "\n\n"
    put(storage, "multi.csv", text.encode())
    rows = read_period(storage, PERIOD).rows
    assert rows["source_row"].tolist() == [2, 5, 6, 7, 8]
    assert rows["nib"].tolist() == [f"{9100000000000 + i}" for i in range(5)]


def _sheet_rows(n: int, order: list[str]) -> list[list[object]]:
    rows: list[list[object]] = [
        [None, *[field(c).label_id + (" (Rp)" if field(c).unit == "IDR" else "") for c in order]]
    ]
    for i in range(n):
        g = good_row(10 + i)
        rows.append([None, *[g[c] for c in order]])
    return rows


def test_xlsx_edited_by_a_person(storage):
    names = [f.name for f in SUBMISSION_FIELDS]
    moved = names[::-1]  # columns moved around
    title = [["LAPORAN PRODUKTIVITAS TENAGA KERJA — AGUSTUS 2025"], [], ["Isi dalam rupiah penuh"], []]
    body = _sheet_rows(3, moved)
    body.insert(2, [])  # a blank row between companies
    second = [["Data tambahan"], *_sheet_rows(1, names)]
    petunjuk = [
        ["Kolom", "Penjelasan"],
        ["NIB", "13 digit"],
        ["Penjualan Bersih", "tanpa PPN"],
        ["Kode KBLI", "5 digit"],
    ]
    data = xlsx_bytes(
        {"Petunjuk": petunjuk, "Isian": title + body, "Cabang 2": second},
        merges={"Isian": ["A1:H1"]},
    )
    put(storage, "Laporan Agustus.xlsx", data)
    res = read_period(storage, PERIOD)
    assert res.file_errors.empty, res.file_errors.to_dict("records")
    assert res.cell_errors.empty
    rows = res.rows
    assert rows["source_sheet"].tolist() == ["Isian"] * 3 + ["Cabang 2"]
    # Title rows 1-4, header row 5, a blank row 7: data on rows 6, 8, 9; second sheet header row 2.
    assert rows["source_row"].tolist() == [6, 8, 9, 3]
    assert rows["net_sales"].tolist() == [2_500_000_000] * 4
    assert res.files[0].format == "xlsx" and res.files[0].rows_read == 4


def test_xlsx_typed_cells(storage):
    names = [f.name for f in SUBMISSION_FIELDS]
    g = good_row()
    typed = {
        "nib": 9100000000005,
        "kbli_code": 1111,  # Excel dropped the leading zero of 01111
        "kabkota_code": 6472,
        "submitted_on": datetime(2025, 9, 3),
        "period": datetime(2025, 8, 1),
        "net_sales": 2500000000,
        "workers_avg_total": 50.5,
        "hours_normal": 8650,
    }
    row = [typed.get(n, g[n]) for n in names]
    put(storage, "typed.xlsx", xlsx_bytes({"Sheet1": [LABELS, row]}))
    res = read_period(storage, PERIOD)
    assert res.cell_errors.empty
    r = res.rows.iloc[0]
    assert (r["nib"], r["kbli_code"], r["kabkota_code"], r["period"]) == (
        "9100000000005",
        "01111",
        "6472",
        "2025-08",
    )
    assert r["submitted_on"] == pd.Timestamp("2025-09-03") and r["net_sales"] == 2_500_000_000
    assert r["workers_avg_total"] == 50.5 and r["hours_normal"] == 8650.0


def test_fixture_files_read(storage):
    for p in sorted(FIXTURES.glob("*.csv")):
        put(storage, p.name, p.read_bytes())
    res = read_period(storage, PERIOD)
    assert {f.file: f.status for f in res.files} == {
        "contoh_koma.csv": "read",
        "contoh_titikkoma.csv": "read",
    }
    assert len(res.rows) == 3 and res.cell_errors["column"].tolist() == ["net_sales"]


def test_manifest_is_append_only_and_orders_resubmissions(storage, tmp_path):
    put(storage, "b_first.csv", csv_bytes([good_row(1)]))
    t1 = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
    res1 = read_period(storage, PERIOD, now=t1)
    first_line = storage.read_text(manifest_path(PERIOD)).splitlines()[0]
    # A later file whose mtime is older must still come second: order is arrival, never mtime.
    put(storage, "a_later.csv", csv_bytes([good_row(1)]))
    os.utime(storage.local_path(f"{FOLDER}/a_later.csv"), (0, 0))
    t2 = datetime(2025, 9, 5, 8, 0, tzinfo=UTC)
    res2 = read_period(storage, PERIOD, now=t2)
    lines = storage.read_text(manifest_path(PERIOD)).splitlines()
    assert lines[0] == first_line and len(lines) == 2
    recs = {f.file: f for f in res2.files}
    assert (
        recs["b_first.csv"].first_seen_order == 1
        and recs["b_first.csv"].first_seen_at == "2025-09-01T08:00:00Z"
    )
    assert (
        recs["a_later.csv"].first_seen_order == 2
        and recs["a_later.csv"].first_seen_at == "2025-09-05T08:00:00Z"
    )
    assert res2.rows["file_order"].tolist() == [1, 2]
    assert res1.files[0].sha256 == recs["b_first.csv"].sha256
    # A re-run records nothing new.
    read_period(storage, PERIOD)
    assert len(load_manifest(storage, PERIOD)) == 2
    assert json.loads(lines[1])["file"] == "a_later.csv"


def test_raw_files_are_never_modified(storage):
    put(storage, "x.csv", csv_bytes([good_row()]))
    put(storage, "y.xlsx", xlsx_bytes({"S": [LABELS, list(good_row().values())]}))
    root = storage.local_path(FOLDER)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.iterdir()}
    read_period(storage, PERIOD)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.iterdir()}
    assert before == after


def test_csv_with_title_lines_and_excel_sep_hint(storage):
    body = csv_bytes([good_row(40)], sep=";").decode()
    text = "sep=;\nLaporan Agustus 2025;;\n\n" + body
    put(storage, "judul.csv", text.encode())
    res = read_period(storage, PERIOD)
    assert res.file_errors.empty and res.rows["source_row"].tolist() == [5]


def test_a_file_without_an_optional_text_column_reads_empty_not_nan(storage):
    """Files of one batch with and without contact_email: the missing cells are empty, never "nan"."""
    with_email = good_row(0)
    without = {k: v for k, v in good_row(1).items() if k != "contact_email"}
    for name, row in (("a.xlsx", with_email), ("b.xlsx", without)):
        put(storage, name, xlsx_bytes({"Data": [list(row), list(row.values())]}))
    put(storage, "c.csv", csv_bytes([{k: v for k, v in good_row(2).items() if k != "contact_email"}]))
    rows = read_period(storage, PERIOD).rows.set_index("nib")
    assert rows.loc["9100000000000", "contact_email"] == "pic0@contoh.test"
    assert rows.loc[["9100000000001", "9100000000002"], "contact_email"].isna().all()
