"""Numbers, money, dates and labels as Indonesian official statistics write them (BPS style).

Babel's ``id_ID`` locale supplies the separators and month names; the patterns are explicit
where BPS differs from Babel's short forms ("Rp288,8 juta", not "Rp 288,8 jt"; "6 November 2023"
without a leading zero; "persen" in sentences). English (``lang="en"``) is the option:
"IDR 288.8 million", "5.03 percent", "August 2025".

Rounding rule (stated in the bulletin's technical notes): every figure is rounded half away
from zero to the decimals shown, and every change (growth, difference, percentage points) is
computed from the unrounded values and rounded only when printed. A printed change can
therefore differ by one in the last digit from the difference of two printed levels.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from babel.dates import format_date

LANGS = ("id", "en")
_LOCALE = {"id": "id_ID", "en": "en_US"}
_ID_SEPARATORS = str.maketrans({",": ".", ".": ","})
EMPTY_CELL = "-"  # BPS prints "-" for an empty cell

# Preliminary status of a BPS figure -> the mark after the year label (STYLE.md §2.4).
STATUS_MARK = {
    "": "",
    "tetap": "",
    "sementara": "*",
    "sangat sementara": "**",
    "sangat sangat sementara": "***",
}

# The message catalogue: every label a reader sees. Indonesian first; English is the option.
MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "office": "DINAS TENAGA KERJA DAN TRANSMIGRASI PROVINSI KALIMANTAN TIMUR",
        "office_short": "Disnakertrans Provinsi Kalimantan Timur",
        "bulletin_kind": "Buletin Produktivitas Tenaga Kerja",
        "title": "Produktivitas Tenaga Kerja Kalimantan Timur {period}",
        "subject": "Buletin Produktivitas Tenaga Kerja Kalimantan Timur — {period}",
        "number": "No. {seq}/{mm}/64/{yyyy}",
        "released": "Tanggal rilis: {date}",
        "highlights": "Ringkasan",
        "sec_provinces": "Perbandingan antarprovinsi",
        "sec_trend": "Perkembangan produktivitas Kalimantan Timur",
        "sec_kabkota": "Kabupaten/kota di Kalimantan Timur",
        "sec_sectors": "Penduduk bekerja menurut lapangan usaha",
        "sec_programme": "Program pengukuran produktivitas perusahaan",
        "sec_quality": "Lampiran: kualitas data kiriman perusahaan",
        "sec_methods": "Penjelasan teknis",
        "sources_heading": "Sumber data",
        "sources_title": "Sumber data menurut dataset",
        "src_data": "Data",
        "src_publisher": "Penerbit",
        "src_access": "Akses dan vintage",
        "src_status": "Status angka",
        "src_programme_data": "Kiriman bulanan perusahaan peserta program",
        "src_programme_access": "Berkas isian perusahaan (xlsx/csv), diperiksa dan diolah",
        "sources_technical": "Rincian teknis sumber (sebagaimana tercatat dalam data, berbahasa Inggris)",
        "figure": "Gambar",
        "table": "Tabel",
        "source": "Sumber",
        "note": "Catatan",
        "data_table": "Data gambar (tabel)",
        "unit_million_per_worker": "Juta Rupiah per Pekerja",
        "unit_persons": "Orang",
        "unit_percent": "Persen",
        "unit_billion": "Miliar Rupiah",
        "province": "Provinsi",
        "region": "Wilayah",
        "kabkota": "Kabupaten/Kota",
        "year": "Tahun",
        "rank": "Peringkat",
        "productivity": "Produktivitas",
        "growth": "Pertumbuhan",
        "grdp": "PDRB ADHK 2010",
        "employed": "Penduduk bekerja",
        "share": "Distribusi",
        "sector": "Lapangan usaha",
        "n_companies": "Jumlah perusahaan",
        "va_per_worker": "Nilai tambah per pekerja",
        "suppressed": "tidak dipublikasikan (kerahasiaan)",
        "not_available": "tidak tersedia",
        "indonesia": "Indonesia",
        "kaltim": "Kalimantan Timur",
        "legend_status": "* angka sementara; ** angka sangat sementara; *** angka sangat sangat sementara",
        "synthetic": "data perusahaan sintetis (contoh)",
        "synthetic_banner": (
            "Perhatian: data perusahaan dalam buletin ini adalah data perusahaan sintetis (contoh), "
            "bukan data perusahaan sebenarnya."
        ),
        "source_bps": "BPS (diolah)",
        "source_programme": "Disnakertrans Kaltim, kiriman perusahaan (diolah)",
        "files_received": "Berkas diterima",
        "rows_accepted": "Baris diterima",
        "rows_quarantined": "Baris dikarantina",
        "reason": "Alasan",
        "rows": "Baris",
        "no_submissions": "Tidak ada kiriman data perusahaan yang masuk untuk periode {period}.",
        "run_date": "Dibuat pada {date}",
        "contact": "Kontak",
        "confidential": "RAHASIA",
        "company_report_title": "Laporan Umpan Balik Produktivitas — {name}",
        "company_report_subject": "RAHASIA — Laporan Umpan Balik Produktivitas {period}",
        "receipt": "Tanda terima kiriman",
        "your_indicators": "Indikator perusahaan Anda",
        "benchmarks": "Pembanding yang dipublikasikan",
        "trend": "Perkembangan antarperiode",
        "indicator": "Indikator",
        "value": "Nilai",
        "period": "Periode",
        "archive_title": "Arsip Buletin Produktivitas Tenaga Kerja Kalimantan Timur",
        "full_bulletin_attached": "Buletin lengkap terlampir (berkas HTML).",
        "toc": "Daftar isi",
        "up": "naik",
        "down": "turun",
        "unchanged": "tetap",
        "percent": "persen",
        "pp": "persen poin",
        "persons": "orang",
        "million": "juta",
        "billion": "miliar",
        "trillion": "triliun",
        "hl_productivity": "Produktivitas tenaga kerja Kalimantan Timur tahun {year} sebesar {value} per pekerja, {change} dibanding tahun {prev}.",
        "hl_productivity_nochange": "Produktivitas tenaga kerja Kalimantan Timur tahun {year} sebesar {value} per pekerja.",
        "hl_rank": "Kalimantan Timur menempati peringkat ke-{rank} dari {n} provinsi pada tahun {year}.",
        "hl_national": "Produktivitas tenaga kerja nasional (Indonesia) tahun {year} sebesar {value} per pekerja; produktivitas Kalimantan Timur pada tahun yang sama {ratio} kali angka nasional.",
        "hl_national_missing": "Angka nasional tahun {year} belum tersedia karena PDB nasional atas dasar harga konstan tahun itu belum dimuat.",
        "hl_employment": "Penduduk bekerja di Kalimantan Timur pada Agustus {year} sebanyak {value}, {change} dibanding Agustus {prev}.",
        "hl_programme": "Pada periode {period} masuk {files} berkas kiriman perusahaan berisi {rows_read} baris data; {accepted} baris dari {companies} perusahaan diterima",
        "hl_programme_q_and_files": ", sedangkan {quarantined} baris dan {unreadable} berkas yang tidak dapat dibaca dikarantina untuk diperbaiki.",
        "hl_programme_q": ", sedangkan {quarantined} baris dikarantina untuk diperbaiki.",
        "hl_programme_files": ", sedangkan {unreadable} berkas yang tidak dapat dibaca dikarantina untuk diperbaiki.",
        "hl_programme_clean": "; tidak ada baris yang dikarantina.",
        "quality_reasons_title": "Baris dan berkas dikarantina menurut alasan",
        "quality_summary_title": "Ringkasan kiriman perusahaan",
        "files": "Berkas",
        "rows_read": "Baris data dibaca",
        "files_unreadable": "Berkas tidak dapat dibaca (dikarantina)",
        "companies_accepted": "Perusahaan dengan data diterima",
        "multi_reason_note": "satu baris dapat dikarantina karena lebih dari satu alasan, sehingga jumlah menurut alasan dapat melebihi jumlah baris dikarantina",
        "total": "Jumlah",
        "agg_title": "Nilai tambah per pekerja perusahaan peserta menurut {by}, {period} (juta rupiah, harga berlaku)",
        "va_per_worker_month": "Per pekerja per bulan",
        "va_per_worker_year": "Per pekerja per tahun (disetahunkan)",
        "agg_note": "nilai tambah per pekerja = jumlah nilai tambah ÷ jumlah rata-rata pekerja dalam sel, atas dasar harga berlaku; disetahunkan = 12 × nilai per bulan. Angka ini tidak dapat dibandingkan langsung dengan produktivitas BPS (harga konstan 2010, seluruh pekerja termasuk informal)",
        "more": "bertambah",
        "less": "berkurang",
        "times": "kali",
        "and": "dan",
    },
    "en": {
        "office": "MANPOWER AND TRANSMIGRATION OFFICE OF EAST KALIMANTAN PROVINCE",
        "office_short": "Disnakertrans, East Kalimantan Province",
        "bulletin_kind": "Labour Productivity Bulletin",
        "title": "Labour Productivity in East Kalimantan, {period}",
        "subject": "Labour Productivity Bulletin, East Kalimantan — {period}",
        "number": "No. {seq}/{mm}/64/{yyyy}",
        "released": "Release date: {date}",
        "highlights": "Highlights",
        "sec_provinces": "Comparison across provinces",
        "sec_trend": "Productivity in East Kalimantan over time",
        "sec_kabkota": "Regencies and cities of East Kalimantan",
        "sec_sectors": "Employed persons by industry",
        "sec_programme": "Company productivity programme",
        "sec_quality": "Annex: quality of company submissions",
        "sec_methods": "Technical notes",
        "sources_heading": "Data sources",
        "sources_title": "Data sources by dataset",
        "src_data": "Data",
        "src_publisher": "Publisher",
        "src_access": "Access and vintage",
        "src_status": "Status of figures",
        "src_programme_data": "Monthly submissions of participating companies",
        "src_programme_access": "Company forms (xlsx/csv), validated and processed",
        "sources_technical": "Technical source details (as recorded in the data)",
        "figure": "Figure",
        "table": "Table",
        "source": "Source",
        "note": "Note",
        "data_table": "Chart data (table)",
        "unit_million_per_worker": "Million IDR per Worker",
        "unit_persons": "Persons",
        "unit_percent": "Percent",
        "unit_billion": "Billion IDR",
        "province": "Province",
        "region": "Region",
        "kabkota": "Regency/City",
        "year": "Year",
        "rank": "Rank",
        "productivity": "Productivity",
        "growth": "Growth",
        "grdp": "GRDP at constant 2010 prices",
        "employed": "Employed persons",
        "share": "Share",
        "sector": "Industry",
        "n_companies": "Number of companies",
        "va_per_worker": "Value added per worker",
        "suppressed": "not published (confidentiality)",
        "not_available": "not available",
        "indonesia": "Indonesia",
        "kaltim": "East Kalimantan",
        "legend_status": "* preliminary; ** very preliminary; *** very very preliminary",
        "synthetic": "synthetic company data (example)",
        "synthetic_banner": (
            "Note: the company data in this bulletin are synthetic company data (example), "
            "not data of real companies."
        ),
        "source_bps": "BPS-Statistics Indonesia (processed)",
        "source_programme": "Disnakertrans Kaltim, company submissions (processed)",
        "files_received": "Files received",
        "rows_accepted": "Rows accepted",
        "rows_quarantined": "Rows quarantined",
        "reason": "Reason",
        "rows": "Rows",
        "no_submissions": "No company submissions arrived for {period}.",
        "run_date": "Produced on {date}",
        "contact": "Contact",
        "confidential": "CONFIDENTIAL",
        "company_report_title": "Productivity Feedback Report — {name}",
        "company_report_subject": "CONFIDENTIAL — Productivity Feedback Report {period}",
        "receipt": "Submission receipt",
        "your_indicators": "Your company's indicators",
        "benchmarks": "Published benchmarks",
        "trend": "Over time",
        "indicator": "Indicator",
        "value": "Value",
        "period": "Period",
        "archive_title": "Archive of the East Kalimantan Labour Productivity Bulletin",
        "full_bulletin_attached": "The full bulletin is attached (HTML file).",
        "toc": "Contents",
        "up": "up",
        "down": "down",
        "unchanged": "unchanged",
        "percent": "percent",
        "pp": "percentage points",
        "persons": "persons",
        "million": "million",
        "billion": "billion",
        "trillion": "trillion",
        "hl_productivity": "Labour productivity in East Kalimantan in {year} was {value} per worker, {change} from {prev}.",
        "hl_productivity_nochange": "Labour productivity in East Kalimantan in {year} was {value} per worker.",
        "hl_rank": "East Kalimantan ranked number {rank} of {n} provinces in {year}.",
        "hl_national": "National (Indonesia) labour productivity in {year} was {value} per worker; East Kalimantan's was {ratio} times the national figure that year.",
        "hl_national_missing": "The national figure for {year} is not available because national GDP at constant prices for that year is not loaded.",
        "hl_employment": "Employed persons in East Kalimantan in August {year} numbered {value}, {change} from August {prev}.",
        "hl_programme": "In {period}, {files} company submission files arrived with {rows_read} data rows; {accepted} rows from {companies} companies were accepted",
        "hl_programme_q_and_files": ", while {quarantined} rows and {unreadable} unreadable files were quarantined for correction.",
        "hl_programme_q": ", while {quarantined} rows were quarantined for correction.",
        "hl_programme_files": ", while {unreadable} unreadable files were quarantined for correction.",
        "hl_programme_clean": "; no row was quarantined.",
        "quality_reasons_title": "Quarantined rows and files by reason",
        "quality_summary_title": "Company submissions in summary",
        "files": "Files",
        "rows_read": "Data rows read",
        "files_unreadable": "Unreadable files (quarantined)",
        "companies_accepted": "Companies with accepted data",
        "multi_reason_note": "a row can be quarantined for more than one reason, so the counts by reason can exceed the rows quarantined",
        "total": "Total",
        "agg_title": "Value added per worker of participating companies by {by}, {period} (million rupiah, current prices)",
        "va_per_worker_month": "Per worker per month",
        "va_per_worker_year": "Per worker per year (annualised)",
        "agg_note": "value added per worker = total value added ÷ total average persons engaged in the cell, at current prices; annualised = 12 × the monthly value. Not directly comparable with BPS productivity (constant 2010 prices, all workers including informal)",
        "more": "up",
        "less": "down",
        "times": "times",
        "and": "and",
    },
}


def check_lang(lang: str | None) -> str:
    if lang in MESSAGES:
        return lang  # type: ignore[return-value]  # the common case, called for every printed number
    lang = (lang or "id").strip().lower()[:2]
    if lang not in LANGS:
        raise ValueError(f"language must be one of {LANGS}, got {lang!r}")
    return lang


def t(key: str, lang: str = "id", **kwargs: Any) -> str:
    """A label from the catalogue, with ``{placeholders}`` filled in."""
    text = MESSAGES[check_lang(lang)][key]
    return text.format(**kwargs) if kwargs else text


def is_missing(x: Any) -> bool:
    if x is None:
        return True
    kind = type(x)
    if kind is float:  # the common cases first: called ~30 times per company report
        return x != x
    if kind is int or kind is bool:
        return False
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


_QUANTUM = tuple(Decimal(1).scaleb(-d) for d in range(10))


def round_half_up(x: float, decimals: int) -> Decimal:
    """Round half away from zero (2,345 -> 2,35), as printed statistics do; Babel alone rounds half-even."""
    q = _QUANTUM[decimals] if 0 <= decimals < len(_QUANTUM) else Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP)


def _digits(value: Decimal, decimals: int, lang: str) -> str:
    """A rounded value in the locale's grouping and decimal mark (``-0,00`` printed as ``0,00``)."""
    if value == 0:
        value = abs(value)
    # Python's own grouping, then the locale's separators: the same text as Babel's "#,##0.00" pattern
    # for id_ID and en_US (tests/test_formatting.py compares them), at a twentieth of the cost, which
    # matters when 10^5 company reports print a dozen numbers each.
    text = format(value, f",.{decimals}f")
    return text.translate(_ID_SEPARATORS) if check_lang(lang) == "id" else text


def number(x: Any, decimals: int = 0, lang: str = "id") -> str:
    """``1.847.295`` / ``87,96`` (id) or ``1,847,295`` / ``87.96`` (en); ``-`` when missing."""
    if is_missing(x):
        return EMPTY_CELL
    return _digits(round_half_up(float(x), decimals), decimals, lang)


def persons(n: Any, lang: str = "id") -> str:
    """``1.847.295 orang`` / ``1,847,295 persons``."""
    if is_missing(n):
        return EMPTY_CELL
    return f"{number(n, 0, lang)} {t('persons', lang)}"


def percent(x: Any, decimals: int = 2, lang: str = "id") -> str:
    """``5,03 persen`` in sentences (BPS writes the word; "%" only in table headers and axes)."""
    if is_missing(x):
        return EMPTY_CELL
    return f"{number(x, decimals, lang)} {t('percent', lang)}"


def rupiah_million(x_million: Any, decimals: int = 1, lang: str = "id") -> str:
    """A value in million rupiah: ``Rp288,8 juta`` (PUEBI: no space, no full stop) / ``IDR 288.8 million``."""
    if is_missing(x_million):
        return EMPTY_CELL
    return _money(float(x_million), "million", decimals, lang)


def rupiah(x_idr: Any, decimals: int = 1, lang: str = "id") -> str:
    """Whole rupiah scaled to juta/miliar/triliun (``Rp1,2 miliar``); below a million as an integer."""
    if is_missing(x_idr):
        return EMPTY_CELL
    v = float(x_idr)
    a = abs(v)
    if a >= 1e12:
        return _money(v / 1e12, "trillion", decimals, lang)
    if a >= 1e9:
        return _money(v / 1e9, "billion", decimals, lang)
    if a >= 1e6:
        return _money(v / 1e6, "million", decimals, lang)
    sign = "-" if v < 0 else ""
    prefix = "Rp" if check_lang(lang) == "id" else "IDR "
    return f"{sign}{prefix}{number(a, 0, lang)}"


def _money(v: float, scale: str, decimals: int, lang: str) -> str:
    # Rounded once: half away from zero is symmetric, so the magnitude rounds as the signed value would;
    # a value that prints as zero gets no minus.
    magnitude = round_half_up(abs(v), decimals)
    sign = "-" if v < 0 and magnitude != 0 else ""
    prefix = "Rp" if check_lang(lang) == "id" else "IDR "
    return f"{sign}{prefix}{_digits(magnitude, decimals, lang)} {t(scale, lang)}"


def direction(change: Any, decimals: int, lang: str = "id") -> str:
    """``naik``/``turun``/``tetap`` judged on the printed value (a change that prints as 0,00 is "tetap")."""
    if is_missing(change) or round_half_up(float(change), decimals) == 0:
        return t("unchanged", lang)
    return t("up", lang) if float(change) > 0 else t("down", lang)


def change_percent(change_pct: Any, decimals: int = 2, lang: str = "id") -> str:
    """``naik 5,03 persen`` / ``turun 0,23 persen`` (magnitude after the verb)."""
    if is_missing(change_pct):
        return EMPTY_CELL
    verb = direction(change_pct, decimals, lang)
    if verb == t("unchanged", lang):
        return verb
    return f"{verb} {percent(abs(float(change_pct)), decimals, lang)}"


def change_points(change_pp: Any, decimals: int = 2, lang: str = "id") -> str:
    """Change of a rate: ``naik 0,85 persen poin`` (never "persen" for a rate difference)."""
    if is_missing(change_pp):
        return EMPTY_CELL
    verb = direction(change_pp, decimals, lang)
    if verb == t("unchanged", lang):
        return verb
    return f"{verb} {number(abs(float(change_pp)), decimals, lang)} {t('pp', lang)}"


def signed(x: Any, decimals: int = 2, lang: str = "id") -> str:
    """A table cell for a change: ``-0,23`` / ``5,03``."""
    if is_missing(x):
        return EMPTY_CELL
    v = round_half_up(float(x), decimals)
    return ("-" if v < 0 else "") + number(abs(float(x)), decimals, lang)


@lru_cache(maxsize=1024)
def period_label(period: str, lang: str = "id") -> str:
    """``2025-08`` -> ``Agustus 2025`` / ``August 2025``."""
    y, m = (int(p) for p in period.split("-"))
    return format_date(date(y, m, 1), "LLLL y", locale=_LOCALE[check_lang(lang)])


def long_date(d: date | datetime, lang: str = "id") -> str:
    """``6 November 2023`` (day without a leading zero) / ``November 6, 2023``."""
    if isinstance(d, datetime):
        d = d.date()
    pattern = "d MMMM y" if check_lang(lang) == "id" else "MMMM d, y"
    return format_date(d, pattern, locale=_LOCALE[lang])


def status_mark(status: Any) -> str:
    if is_missing(status):
        return ""
    return STATUS_MARK.get(str(status).strip().lower(), "")


def year_label(year: Any, status: Any = None) -> str:
    """``2024***`` for a very very preliminary year (legend: ``legend_status``)."""
    return f"{int(year)}{status_mark(status)}"


# Short names of the 17 PDRB industry groups for chart labels (the tables keep the full BPS names).
SECTOR_SHORT: dict[str, dict[str, str]] = {
    "id": {
        "A": "Pertanian", "B": "Pertambangan", "C": "Industri pengolahan", "D": "Listrik dan gas",
        "E": "Air dan limbah", "F": "Konstruksi", "G": "Perdagangan", "H": "Transportasi",
        "I": "Akomodasi dan makan minum", "J": "Informasi dan komunikasi", "K": "Keuangan",
        "L": "Real estat", "M-N": "Jasa perusahaan", "O": "Administrasi pemerintahan",
        "P": "Pendidikan", "Q": "Kesehatan", "R-U": "Jasa lainnya",
    },
    "en": {
        "A": "Agriculture", "B": "Mining", "C": "Manufacturing", "D": "Electricity and gas",
        "E": "Water and waste", "F": "Construction", "G": "Trade", "H": "Transport",
        "I": "Accommodation and food", "J": "Information and communication", "K": "Finance",
        "L": "Real estate", "M-N": "Business services", "O": "Public administration",
        "P": "Education", "Q": "Health", "R-U": "Other services",
    },
}  # fmt: skip

# Full English names of the PDRB groups (schemas.codes.pdrb_groups() gives the Indonesian ones).
SECTOR_EN: dict[str, str] = {
    "A": "Agriculture, Forestry and Fishing", "B": "Mining and Quarrying", "C": "Manufacturing",
    "D": "Electricity and Gas", "E": "Water Supply, Sewerage, Waste Management and Remediation",
    "F": "Construction", "G": "Wholesale and Retail Trade; Repair of Motor Vehicles",
    "H": "Transportation and Storage", "I": "Accommodation and Food Service Activities",
    "J": "Information and Communication", "K": "Financial and Insurance Activities", "L": "Real Estate",
    "M-N": "Business Activities", "O": "Public Administration, Defence and Compulsory Social Security",
    "P": "Education", "Q": "Human Health and Social Work Activities", "R-U": "Other Services",
}  # fmt: skip


def sector_short(code: str, lang: str = "id") -> str:
    """``G`` -> ``Perdagangan`` (chart label); unknown codes stay as they are."""
    return SECTOR_SHORT[check_lang(lang)].get(str(code), str(code))


def sector_name(code: str, lang: str = "id") -> str:
    """The full name of a PDRB group in the reader's language."""
    from schemas.codes import pdrb_groups

    code = str(code)
    if check_lang(lang) == "en":
        return SECTOR_EN.get(code, code)
    return pdrb_groups().get(code, code)


# Why a row or file was quarantined: reason code (written by the submission readers and validation)
# -> what a reader of the bulletin is told. Unknown codes fall back to "other reason (code)".
REASONS: dict[str, tuple[str, str]] = {
    # whole files that could not be read
    "empty_file": ("Berkas kosong", "Empty file"),
    "not_text": ("Berkas CSV berisi data biner", "CSV file with binary content"),
    "not_xlsx": ("Berkas .xlsx bukan buku kerja Excel", ".xlsx file is not an Excel workbook"),
    "corrupt_xlsx": ("Berkas Excel rusak atau terpotong", "Damaged or truncated Excel file"),
    "encrypted_xlsx": ("Berkas Excel dilindungi kata sandi", "Password-protected Excel file"),
    "xls_old_format": ("Format Excel lama (.xls)", "Old Excel format (.xls)"),
    "zip_bomb": ("Isi berkas terlalu besar setelah dibuka", "File content too large when unpacked"),
    "unknown_extension": ("Jenis berkas tidak didukung", "Unsupported file type"),
    "no_header": ("Baris judul kolom tidak ditemukan", "No header row found"),
    "missing_columns": ("Kolom wajib tidak ada di berkas", "Required columns missing from the file"),
    "bad_structure": ("Struktur berkas CSV rusak", "Broken CSV structure"),
    "read_failed": ("Berkas tidak dapat dibaca", "File could not be read"),
    # cells that could not be read as the field's type
    "not_a_number": ("Isian angka berisi teks", "Text in a number field"),
    "ambiguous_number": ("Angka ambigu (pemisah desimal/ribuan)", "Ambiguous number (decimal/thousands)"),
    "out_of_range": ("Angka terlalu besar", "Number too large"),
    "not_a_date": ("Tanggal tidak sah", "Invalid date"),
    "not_a_period": ("Periode tidak sah", "Invalid period"),
    "formula_without_value": ("Rumus Excel tanpa nilai tersimpan", "Excel formula without a stored value"),
    # validation rules
    "missing_required": ("Kolom wajib kosong", "Required field empty"),
    "invalid_kabkota": ("Kode kabupaten/kota bukan wilayah Kalimantan Timur",
                        "Regency/city code outside East Kalimantan"),
    "not_allowed": ("Nilai tidak termasuk pilihan yang sah", "Value not among the allowed codes"),
    "invalid_nib": ("NIB tidak sah (harus 13 angka)", "Invalid business ID (NIB, 13 digits)"),
    "invalid_kbli_code": ("Kode KBLI tidak sah (harus 5 angka)", "Invalid KBLI code (5 digits)"),
    "invalid_kbli": ("Kode KBLI tidak dikenal", "Unknown KBLI code"),
    "invalid_period": ("Format periode tidak sah", "Invalid period format"),
    "wrong_period": ("Periode data bukan periode laporan", "Data for another period"),
    "not_positive": ("Nilai harus lebih dari nol", "Value must be above zero"),
    "negative_value": ("Nilai negatif pada kolom yang tidak boleh negatif", "Negative value where not allowed"),
    "workers_sum_mismatch": ("Jumlah pekerja per kategori tidak sama dengan total",
                             "Workers by category do not add up to the total"),
    "hours_impossible": ("Jam kerja per pekerja tidak mungkin", "Impossible hours per worker"),
    "superseded": ("Digantikan kiriman ulang yang lebih baru", "Replaced by a later resubmission"),
}  # fmt: skip


def reason_label(code: str, lang: str = "id") -> str:
    """A quarantine reason code as a reader-facing description (never the raw code alone)."""
    lang = check_lang(lang)
    pair = REASONS.get(str(code))
    if pair is None:
        return f"{'Alasan lain' if lang == 'id' else 'Other reason'} ({code})"
    return pair[0] if lang == "id" else pair[1]
