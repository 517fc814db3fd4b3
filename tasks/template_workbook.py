"""The submission template companies fill in: an XLSX workbook and an equivalent CSV.

Everything here is derived from :data:`schemas.submission.SUBMISSION_FIELDS`: headers are the
Indonesian labels (``label_id``), number formats follow the unit, required/rule text follows the
field's rules. The CSV header uses the *field names* (``nib, company_name, ...``); the readers accept
field names and Indonesian labels alike (``schemas.submission.header_lookup``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from schemas.codes import KBLI_DIVISIONS, kaltim_kabkota, kbli_sections
from schemas.fields import Field
from schemas.submission import SUBMISSION_FIELDS
from tasks.storage import Storage

DATA_SHEET = "Data"
GUIDE_SHEET = "Petunjuk"
CODES_SHEET = "Kode"
XLSX_NAME = "formulir_produktivitas.xlsx"
CSV_NAME = "formulir_produktivitas.csv"
INPUT_ROWS = 100  # rows left editable under the header; one row per company per month

# Indonesian meaning and an example per field, for the instructions sheet. Field.description is
# English (for statisticians); a company reads these.
GUIDE_ID: dict[str, tuple[str, str]] = {
    "nib": ("Nomor Induk Berusaha dari OSS, 13 angka, ditulis sebagai teks.", "9120000123456"),
    "company_name": ("Nama perusahaan sesuai akta/NIB.", "PT Contoh Mahakam Jaya"),
    "kbli_code": ("Kode KBLI 2020 kegiatan utama, 5 angka.", "10431"),
    "kabkota_code": ("Kode BPS kabupaten/kota lokasi usaha di Kalimantan Timur (pilih dari daftar).", "6471"),
    "contact_email": ("Alamat email penerima tanda terima dan laporan umpan balik.", "keuangan@contoh.co.id"),
    "period": ("Bulan laporan, format TTTT-BB.", "2025-08"),
    "submitted_on": ("Tanggal formulir diisi.", "2025-09-10"),
    "net_sales": ("Penjualan barang dan jasa selama bulan laporan, tanpa PPN.", "1250000000"),
    "other_operating_income": ("Pendapatan operasional lain, tanpa bunga dan dividen.", "15000000"),
    "chg_inventory_fg_wip": (
        "Persediaan barang jadi dan setengah jadi akhir bulan dikurangi awal bulan; boleh negatif.",
        "-20000000",
    ),
    "purch_raw_materials": ("Bahan baku dan bahan penolong yang dipakai.", "540000000"),
    "purch_energy": ("Bahan bakar, listrik dan gas.", "85000000"),
    "purch_services": ("Sewa gedung/mesin, makloon, perbaikan dan jasa lain.", "60000000"),
    "purch_goods_for_resale": (
        "Barang yang dibeli untuk dijual kembali tanpa diolah; wajib untuk perdagangan (KBLI seksi G).",
        "0",
    ),
    "wages_salaries": ("Upah dan gaji bruto termasuk lembur, THR dan bonus.", "310000000"),
    "employer_social_contrib": ("Iuran BPJS dan jaminan sosial lain yang dibayar perusahaan.", "31000000"),
    "other_benefits": ("Tunjangan lain dan natura.", "8000000"),
    "workers_avg_total": (
        "Rata-rata jumlah orang yang bekerja selama bulan ini, termasuk pemilik/keluarga tidak dibayar.",
        "50",
    ),
    "workers_pkwtt": ("Rata-rata pekerja tetap (PKWTT).", "35"),
    "workers_pkwt": ("Rata-rata pekerja kontrak (PKWT).", "10"),
    "workers_outsourced": ("Rata-rata pekerja alih daya yang bekerja di tempat usaha.", "5"),
    "workers_unpaid": ("Rata-rata pemilik dan pekerja keluarga yang tidak dibayar.", "0"),
    "workers_female": ("Rata-rata pekerja perempuan (paling banyak jumlah tenaga kerja).", "12"),
    "hours_normal": ("Jumlah jam kerja normal semua pekerja dalam sebulan.", "8650"),
    "hours_overtime": ("Jumlah jam lembur semua pekerja dalam sebulan.", "640"),
    "fixed_assets_nbv_open": ("Nilai buku aset tetap awal bulan (boleh kosong bila tidak ada neraca).", ""),
    "fixed_assets_nbv_close": ("Nilai buku aset tetap akhir bulan (boleh kosong bila tidak ada neraca).", ""),
    "depreciation": ("Penyusutan aset tetap bulan ini.", "12000000"),
    "capex": ("Pembelian aset tetap bulan ini.", "0"),
}

_UNIT_ID = {
    "IDR": "Rupiah per bulan (angka bulat)",
    "persons": "orang (rata-rata sebulan)",
    "hours": "jam (total sebulan, semua pekerja)",
    "BPS code": "kode BPS",
}


def kabkota_choices() -> list[str]:
    """Dropdown entries "6471 — Balikpapan"; the readers keep the leading code."""
    return [f"{code} — {name}" for code, name in sorted(kaltim_kabkota().items())]


def kbli_section_choices() -> list[str]:
    return [f"{code} — {row['name_id']}" for code, row in sorted(kbli_sections().items())]


def required_text(f: Field) -> str:
    if f.required:
        return "Wajib"
    if f.extra.get("required_if_section"):
        return f"Wajib untuk KBLI seksi {f.extra['required_if_section']}"
    return "Tidak wajib"


def rule_text(f: Field) -> str:
    """The field's rules in Indonesian, derived from the Field (same source as validation)."""
    parts: list[str] = []
    if f.name == "nib":
        parts.append("13 angka")
    elif f.name == "kbli_code":
        parts.append("5 angka; 2 angka pertama harus golongan pokok KBLI 2020 yang ada")
    elif f.name == "kabkota_code":
        parts.append("salah satu kode kabupaten/kota Kalimantan Timur (lembar Kode)")
    elif f.name == "period":
        parts.append("TTTT-BB, sama dengan bulan laporan")
    elif f.name == "contact_email":
        parts.append("alamat email yang sah")
    elif f.dtype == "date":
        parts.append("tanggal (TTTT-BB-HH)")
    if f.extra.get("min_exclusive") == "true" and f.min_value is not None:
        parts.append(f"lebih dari {f.min_value:g}")
    elif f.min_value is not None:
        parts.append(f"tidak boleh negatif (≥ {f.min_value:g})")
    elif f.dtype in ("int64", "float64"):
        parts.append("boleh negatif")
    if f.max_value is not None:
        parts.append(f"paling besar {f.max_value:g}")
    if f.name == "workers_avg_total":
        parts.append("harus sama dengan PKWTT + PKWT + alih daya + tidak dibayar (selisih ≤ 0,5)")
    if f.name in ("hours_normal", "hours_overtime"):
        parts.append("(normal + lembur) ÷ jumlah tenaga kerja tidak boleh lebih dari 744 jam")
    return "; ".join(parts)


def _number_format(f: Field) -> str:
    if f.unit == "IDR":
        return "#,##0"
    if f.dtype == "float64":
        return "0.0"
    if f.dtype == "date":
        return "yyyy-mm-dd"
    return "@"  # text: keeps NIB/KBLI/kab-kota codes from turning into numbers


def build_workbook() -> Any:
    """The template as an openpyxl Workbook (Petunjuk, Data, Kode sheets)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    guide = wb.active
    guide.title = GUIDE_SHEET
    data = wb.create_sheet(DATA_SHEET)
    codes = wb.create_sheet(CODES_SHEET)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")

    guide.append(["Formulir Laporan Produktivitas Tenaga Kerja — Disnakertrans Provinsi Kalimantan Timur"])
    guide["A1"].font = Font(bold=True, size=13)
    for line in (
        "Isi satu baris per perusahaan per bulan pada lembar 'Data'. Jangan mengubah judul kolom.",
        "Angka rupiah ditulis utuh (tanpa 'juta'), tanpa titik pemisah bila mengetik manual di CSV.",
        "Kode NIB, KBLI, kabupaten/kota dan periode ditulis sebagai teks agar nol di depan tidak hilang.",
        "Kirim ulang seluruh baris bila ada perbaikan; kiriman terbaru yang menggantikan kiriman lama.",
        "",
    ):
        guide.append([line])
    header = ["Kolom", "Nama field", "Arti", "Satuan", "Wajib?", "Aturan", "Contoh"]
    guide.append(header)
    for c in guide[guide.max_row]:
        c.font = bold
        c.fill = head_fill
    for f in SUBMISSION_FIELDS:
        meaning, example = GUIDE_ID.get(f.name, (f.description, ""))
        guide.append(
            [
                f.label_id,
                f.name,
                meaning,
                _UNIT_ID.get(f.unit, f.unit or "-"),
                required_text(f),
                rule_text(f),
                example,
            ]  # fmt: skip
        )
    for col, width in zip("ABCDEFG", (34, 26, 60, 28, 24, 60, 22), strict=True):
        guide.column_dimensions[col].width = width
    for row in guide.iter_rows(min_row=8):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
            c.number_format = "@"
    guide.protection.sheet = True

    codes.append(["Kode kabupaten/kota", "", "Seksi KBLI 2020"])
    for c in codes[1]:
        c.font = bold
    kab = kabkota_choices()
    sec = kbli_section_choices()
    for i in range(max(len(kab), len(sec))):
        codes.append([kab[i] if i < len(kab) else None, None, sec[i] if i < len(sec) else None])
    # A section picker for orientation: the data sheet takes the 5-digit code, whose first two
    # digits must fall in the section's division range (shown next to the picker).
    codes["E1"] = "Bantu cari seksi KBLI:"
    codes["E1"].font = bold
    picker = codes["E2"]
    picker.protection = Protection(locked=False)
    pick = DataValidation(type="list", formula1=f"'{CODES_SHEET}'!$C$2:$C${len(sec) + 1}", allow_blank=True)
    pick.add("E2")
    codes.add_data_validation(pick)
    codes["E3"] = "Golongan pokok (2 angka pertama KBLI) per seksi:"
    for i, (s, (lo, hi)) in enumerate(sorted(KBLI_DIVISIONS.items()), start=4):
        codes.cell(row=i, column=5, value=f"{s}: {lo:02d}–{hi:02d}")
    codes.column_dimensions["A"].width = 32
    codes.column_dimensions["C"].width = 90
    codes.column_dimensions["E"].width = 40
    codes.protection.sheet = True

    last_row = INPUT_ROWS + 1
    for j, f in enumerate(SUBMISSION_FIELDS, start=1):
        letter = get_column_letter(j)
        cell = data.cell(row=1, column=j, value=f.label_id)
        cell.font = bold
        cell.fill = head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        # The column's style (number format, unlocked) is what Excel gives every empty cell of it:
        # styling 100 empty cells per column made each file ~2,900 cells bigger to write and read.
        dim = data.column_dimensions[letter]
        dim.width = max(14, min(len(f.label_id) + 2, 30))
        dim.number_format = _number_format(f)
        dim.protection = Protection(locked=False)
        if f.name == "kabkota_code":
            dv = DataValidation(
                type="list",
                formula1=f"'{CODES_SHEET}'!$A$2:$A${len(kab) + 1}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Kode kabupaten/kota",
                error="Pilih kode kabupaten/kota Kalimantan Timur dari daftar.",
            )
            dv.add(f"{letter}2:{letter}{last_row}")
            data.add_data_validation(dv)
        elif f.name == "kbli_code":
            # The sheet lists sections for orientation; the cell takes the 5-digit code (length check).
            dv = DataValidation(
                type="textLength",
                operator="equal",
                formula1="5",
                allow_blank=True,
                showErrorMessage=True,
                showInputMessage=True,
                promptTitle="Kode KBLI 2020",
                prompt="5 angka. Daftar seksi KBLI ada di lembar Kode.",
                errorTitle="Kode KBLI",
                error="Kode KBLI 2020 terdiri dari 5 angka.",
            )
            dv.add(f"{letter}2:{letter}{last_row}")
            data.add_data_validation(dv)
        elif f.unit == "IDR" and f.min_value is not None:
            dv = DataValidation(
                type="whole",
                operator="greaterThanOrEqual",
                formula1=str(int(f.min_value)),
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=f.label_id,
                error="Isi angka rupiah bulat, tidak negatif.",
            )
            dv.add(f"{letter}2:{letter}{last_row}")
            data.add_data_validation(dv)
    data.row_dimensions[1].height = 45
    data.freeze_panes = "A2"
    # Header locked against accidental edits; no password, so an office can still unprotect it.
    data.protection.sheet = True
    data.protection.formatColumns = False
    data.protection.formatRows = False
    wb.active = wb.index(data)
    return wb


_TEMPLATE_LOCK = threading.Lock()
_TEMPLATE: list[Any] = []  # the built template, reused: building it is half the cost of a file


def workbook_bytes(rows: Sequence[Mapping[str, Any]] = ()) -> bytes:
    """The template as XLSX bytes, with ``rows`` (field name -> value) filled in from row 2."""
    with _TEMPLATE_LOCK:
        if not _TEMPLATE:
            _TEMPLATE.append(build_workbook())
        wb = _TEMPLATE[0]
        cells = wb[DATA_SHEET]._cells
        try:
            if rows:
                fill_data_sheet(wb, rows)
            buf = io.BytesIO()
            wb.save(buf)
        finally:
            # Back to the empty template (header row only) for the next file.
            for key in [k for k in cells if k[0] >= 2]:
                del cells[key]
            for ws in wb.worksheets:  # set by save(); a fresh template has them unset
                ws.column_dimensions.max_outline = None
                ws.sheet_format.outlineLevelCol = None
        return buf.getvalue()


def fill_data_sheet(wb: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write values (by field name) into the Data sheet of a template workbook, from row 2."""
    from openpyxl.styles import Protection

    ws = wb[DATA_SHEET]
    col_of = {f.name: j for j, f in enumerate(SUBMISSION_FIELDS, start=1)}
    fmt_of = {f.name: _number_format(f) for f in SUBMISSION_FIELDS}
    unlocked = Protection(locked=False)
    for i, row in enumerate(rows, start=2):
        for name, value in row.items():
            if name in col_of and value is not None:
                # A cell written here takes its column's style first, as one typed in Excel does
                # (a date then keeps the column's yyyy-mm-dd instead of openpyxl's date-time format).
                cell = ws.cell(row=i, column=col_of[name])
                cell.number_format = fmt_of[name]
                cell.protection = unlocked
                cell.value = value


def csv_text() -> str:
    """The CSV template: one header row of field names."""
    return ",".join(f.name for f in SUBMISSION_FIELDS) + "\n"


def write_template(out_dir: Path) -> list[Path]:
    """Write the XLSX template and the equivalent CSV into ``out_dir``; returns both paths."""
    storage = Storage(out_dir)
    storage.write_bytes(XLSX_NAME, workbook_bytes())
    storage.write_text(CSV_NAME, csv_text())
    return [Path(storage.local_path(XLSX_NAME)), Path(storage.local_path(CSV_NAME))]
