"""Read whatever companies sent for a month (CSV or XLSX) into typed rows with exact provenance.

:func:`read_period` lists ``raw/submissions/<YYYY-MM>/``, records every file in the manifest and
returns a :class:`ReadResult`:

- ``rows``: one row per data row read, every :data:`SUBMISSION_FIELDS` column typed
  (``str`` / ``Int64`` / ``Float64`` / ``datetime64[s]``, missing -> NA) plus ``source_file``,
  ``source_sheet`` (NA for CSV), ``source_row`` (the row number a person sees, 1-based, header
  rows included), ``file_sha256`` and ``file_order`` (manifest first-seen order). Rows with bad
  cells stay here with those cells NA, so rows read = accepted + quarantined downstream.
- ``cell_errors``: cells that hold something that is not a value of their type (text in a number,
  an impossible date, a formula without a stored value), with a neutralised copy of the raw text.
- ``file_errors``: files that could not be read (``severity`` "error", the file's status is
  "unreadable") and notices about files that were read (``severity`` "warning": header only,
  unknown columns, non-UTF-8 CSV, ...).
- ``files``: one :class:`FileRecord` per file found.

Text values are stored as received and never evaluated. Anything echoed back to a person in a
CSV/XLSX must go through :func:`neutralise` (formula injection). Raw files are only read.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import html
import io
import itertools
import posixpath
import re
import struct
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from schemas.submission import (
    PROVENANCE_FIELDS,
    SUBMISSION_FIELDS,
    empty_rows_frame,
    header_lookup,
    normalise_header,
    pandas_dtype,
)
from tasks.numbers import Parsed, parse_dates, parse_numbers, parse_periods
from tasks.process_pool import keep_workers, map_batches, prestart, usable_cores
from tasks.storage import Storage
from tasks.submission_manifest import register_files

SUBMISSIONS_DIR = "raw/submissions"
HEADER_SCAN_ROWS = 30
MIN_HEADER_MATCHES = 3
# A compressed member this many times smaller than its content is not a spreadsheet a person made.
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = 10_000_000
SNIFF_BYTES = 65_536
EXTRA_CSV_COLUMNS = 8
# Sheets never holding submissions: guides, and the template's own code lists (the guide and codes
# sheets of tasks/template_workbook.py; a test keeps them here). Skipping the codes sheet spares
# parsing it in each of a national month's ~7,000 workbooks.
IGNORED_SHEETS = {
    "petunjuk", "instruksi", "panduan", "instructions", "instruction", "readme", "keterangan", "kode",
}  # fmt: skip
_CSV_EXT = {".csv", ".txt"}
_XLSX_EXT = {".xlsx", ".xlsm"}
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_STORAGE_TMP = re.compile(r"^\..*\.tmp-[0-9a-f]{32}$")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# Workbooks whose sheets and strings are this small are read by calamine (Rust) when it is known to
# give exactly openpyxl's values; bigger ones stream through openpyxl's read-only mode.
CALAMINE_MAX_XML_BYTES = 32_000_000
# Switches for the differential tests: the fast paths must give what the general paths give.
USE_CALAMINE = True
USE_FAST_CSV = True

FIELDS = {f.name: f for f in SUBMISSION_FIELDS}
ROW_COLUMNS = [f.name for f in SUBMISSION_FIELDS + PROVENANCE_FIELDS]
CELL_ERROR_COLUMNS = [
    "source_file",
    "source_sheet",
    "source_row",
    "column",
    "value",
    "reason_code",
    "reason_id",
    "reason_en",
]
FILE_ERROR_COLUMNS = ["source_file", "reason_code", "reason_id", "reason_en", "severity"]


@dataclass
class FileRecord:
    """One per file found in the period folder."""

    file: str  # name relative to the period folder
    sha256: str
    size_bytes: int
    first_seen_order: int
    first_seen_at: str
    format: str  # "csv" | "xlsx" | "unknown"
    status: str  # "read" | "unreadable"
    rows_read: int


@dataclass
class ReadResult:
    rows: pd.DataFrame
    cell_errors: pd.DataFrame
    file_errors: pd.DataFrame
    files: list[FileRecord] = field(default_factory=list)


class FileRejected(Exception):
    """A file (or all of it) cannot be read; carries the reason for the person who sent it."""

    def __init__(self, code: str, reason_id: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.code, self.reason_id, self.reason_en = code, reason_id, reason_en
        self.notes: list[dict] = []  # warnings found before the rejection (e.g. misspelled headers)


# --- formula injection -------------------------------------------------------------------------------
def neutralise(text: pd.Series | str | None) -> Any:
    """Prefix text a spreadsheet would run as a formula (=, +, -, @, tab, CR) with a single quote.

    Use it on every text cell the project writes into a CSV or XLSX a person opens.
    """
    if text is None:
        return None
    if isinstance(text, pd.Series):
        s = text.astype("str")
        risky = s.str.lstrip(" ").str.startswith(_FORMULA_PREFIXES).fillna(False).astype(bool)
        return s.mask(risky, "'" + s)
    s = str(text)
    return "'" + s if s.lstrip(" ").startswith(_FORMULA_PREFIXES) else s


# --- messages ----------------------------------------------------------------------------------------
def _where(file: str, sheet: str | None) -> str:
    return f"berkas '{file}'" + (f" (lembar '{sheet}')" if sheet else "")


def _where_en(file: str, sheet: str | None) -> str:
    return f"file '{file}'" + (f" (sheet '{sheet}')" if sheet else "")


def _label(name: str) -> str:
    return FIELDS[name].label_id or name


_CELL_REASONS: dict[str, tuple[str, str]] = {
    "not_a_number": (
        "bukan angka. Tulis angka saja, mis. 2500000 atau 2.500.000 (tanpa teks); kosongkan jika tidak ada",
        "is not a number. Write digits only, e.g. 2500000 or 2.500.000; leave empty if none",
    ),
    "ambiguous_number": (
        "ambigu: bisa berarti desimal (koma) atau ribuan. Tulis tanpa pemisah ribuan, mis. 12345, "
        "dan pakai koma hanya untuk desimal",
        "is ambiguous (decimal comma or thousands separator). Write it without thousands separators",
    ),
    "out_of_range": (
        "terlalu besar untuk disimpan. Periksa jumlah digitnya (nilai dalam rupiah penuh)",
        "is too large to store. Check the number of digits (whole rupiah)",
    ),
    "not_a_date": (
        "bukan tanggal yang sah. Tulis seperti 03/09/2025 (hari/bulan/tahun) atau 2025-09-03",
        "is not a valid date. Write it as 03/09/2025 (day/month/year) or 2025-09-03",
    ),
    "not_a_period": (
        "bukan periode yang sah. Tulis seperti 2025-08 atau Agustus 2025",
        "is not a valid period. Write it as 2025-08 or August 2025",
    ),
    "formula_without_value": (
        "berisi rumus tanpa nilai tersimpan — buka dan simpan ulang di Excel (atau ganti rumus dengan nilainya)",
        "holds a formula without a stored value — open and save the file again in Excel",
    ),
}


def _file_error(file: str, code: str, reason_id: str, reason_en: str, severity: str = "error") -> dict:
    return {
        "source_file": file,
        "reason_code": code,
        "reason_id": reason_id,
        "reason_en": reason_en,
        "severity": severity,
    }


def _cap(text: str) -> str:
    # str.capitalize() would also lower-case the file name inside the sentence
    return text[:1].upper() + text[1:]


def _rejected(code: str, file: str, sheet: str | None = None, **kw: Any) -> FileRejected:
    w, we = _where(file, sheet), _where_en(file, sheet)
    texts: dict[str, tuple[str, str]] = {
        "empty_file": (
            f"{_cap(w)} kosong (0 byte). Kirim ulang berkas yang berisi data.",
            f"{_cap(we)} is empty (0 bytes). Send the file again with data.",
        ),
        "not_text": (
            f"{_cap(w)} bukan berkas teks CSV (isinya data biner). Simpan dari Excel sebagai "
            "'CSV UTF-8' atau kirim berkas .xlsx.",
            f"{_cap(we)} is not a CSV text file (binary content). Save it from Excel as "
            "'CSV UTF-8' or send the .xlsx.",
        ),
        "not_xlsx": (
            f"{_cap(w)} bernama .xlsx tetapi isinya bukan buku kerja Excel. Buka di Excel lalu "
            "'Simpan Sebagai' Buku Kerja Excel (.xlsx), atau kirim CSV.",
            f"{_cap(we)} is named .xlsx but is not an Excel workbook. Save it as .xlsx or CSV.",
        ),
        "corrupt_xlsx": (
            f"{_cap(w)} rusak atau tidak lengkap (mungkin terpotong saat dikirim). Kirim ulang berkasnya.",
            f"{_cap(we)} is damaged or incomplete (maybe truncated in transfer). Send it again.",
        ),
        "encrypted_xlsx": (
            f"{_cap(w)} dilindungi kata sandi sehingga tidak dapat dibaca. Hapus kata sandinya "
            "(File > Info > Proteksi Buku Kerja) lalu kirim ulang.",
            f"{_cap(we)} is password-protected and cannot be read. Remove the password and send it again.",
        ),
        "xls_old_format": (
            f"{_cap(w)} memakai format Excel lama (.xls). Simpan ulang sebagai .xlsx atau CSV "
            "lalu kirim ulang.",
            f"{_cap(we)} uses the old Excel format (.xls). Save it as .xlsx or CSV and send it again.",
        ),
        "zip_bomb": (
            f"{_cap(w)} ditolak: isinya setelah dibuka ({kw.get('mb', '?')} MB) terlalu besar "
            "atau terlalu padat untuk sebuah isian. Kirim berkas yang hanya berisi lembar isian.",
            f"{_cap(we)} rejected: its uncompressed content ({kw.get('mb', '?')} MB) is too large "
            "or too compressed for a submission.",
        ),
        "unknown_extension": (
            f"{_cap(w)} berjenis '{kw.get('ext', '')}' yang tidak didukung. Kirim berkas .xlsx atau .csv.",
            f"{_cap(we)} has an unsupported type '{kw.get('ext', '')}'. Send .xlsx or .csv.",
        ),
        "no_header": (
            f"Baris judul kolom tidak ditemukan di {w} ({HEADER_SCAN_ROWS} baris pertama). Gunakan "
            "templat resmi dengan judul kolom seperti 'NIB', 'Kode KBLI', 'Penjualan Bersih'.",
            f"No header row found in {we} (first {HEADER_SCAN_ROWS} rows). Use the official template "
            "headers such as 'NIB', 'Kode KBLI', 'Penjualan Bersih'.",
        ),
        "missing_columns": (
            f"Kolom wajib tidak ada di {w}: {kw.get('labels_id', '')}. Tambahkan kolom tersebut sesuai "
            "templat lalu kirim ulang.",
            f"Required columns missing in {we}: {kw.get('labels_en', '')}. Add them as in the template "
            "and send it again.",
        ),
        "bad_structure": (
            f"Struktur {w} rusak: {kw.get('detail_id', '')}. Periksa tanda pemisah dan tanda kutip, "
            "atau kirim sebagai .xlsx.",
            f"Broken structure in {we}: {kw.get('detail', '')}. Check separators and quotes, or send .xlsx.",
        ),
        "read_failed": (
            f"{_cap(w)} tidak dapat dibaca ({kw.get('detail', '')}). Simpan ulang sebagai .xlsx "
            "atau CSV lalu kirim ulang.",
            f"{_cap(we)} could not be read ({kw.get('detail', '')}). Save it as .xlsx or CSV again.",
        ),
    }
    rid, ren = texts[code]
    return FileRejected(code, rid, ren)


# --- header matching -----------------------------------------------------------------------------------
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def match_header(text: object) -> str | None:
    """The field a header cell names (full text, then without/only its bracketed part), else None."""
    if text is None:
        return None
    # Every cell of the first rows of every sheet is tried as a header: the same few texts recur in
    # thousands of files, and normalising one costs ~60 us.
    return _match_header_text(str(text))


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _normalise(text: str) -> str:
    """:func:`normalise_header` of ``text``, without its per-character Python loop for ASCII text.

    Every data cell of the first rows (company names, whole CSV lines under a wrong separator) is
    normalised once while the header row is searched; NFKD and the combining-mark filter leave ASCII
    unchanged, so only lower-casing and the punctuation rule apply (tests/test_reader_speed_paths.py
    keeps this equal to the schema's function).
    """
    if text.isascii():
        return _NON_ALNUM.sub(" ", text.lower()).strip()
    return normalise_header(text)


@lru_cache(maxsize=1)
def _keys_have_letters() -> bool:
    return all(k.upper() != k.lower() for k in header_lookup())


@lru_cache(maxsize=65_536)
def _match_header_text(text: str) -> str | None:
    raw = text.strip()
    # Numbers, dates and codes in data rows (ASCII without a letter) cannot name a field when every
    # known header has a letter; this skips normalising them while the header row is searched.
    if raw.isascii() and raw.upper() == raw.lower() and _keys_have_letters():
        return None
    if not raw:
        return None
    lookup = header_lookup()
    candidates = [raw, _PARENS.sub(" ", raw)] + [m.strip("()[]") for m in _PARENS.findall(raw)]
    for c in candidates:
        key = _normalise(c)
        if key in lookup:
            return lookup[key]
    return None


def _header_score(cells: list[object]) -> int:
    """How many fields ``cells`` name: :func:`match_header` of each cell, as one tight loop.

    Integers and date-times (``str`` of which has no letter) name no field when every known header
    has a letter; skipping them saves the ``str()`` and cache lookup for most data cells.
    """
    skip_numbers = _keys_have_letters()
    found: set[str] = set()
    for c in cells:
        if c is None:
            continue
        t = type(c)
        if t is str:
            name = _match_header_text(c)  # type: ignore[arg-type]
        elif skip_numbers and (t is int or t is datetime):
            continue
        else:
            name = _match_header_text(str(c))
        if name:
            found.add(name)
    return len(found)


def _suggest(header: str) -> str | None:
    key = normalise_header(_PARENS.sub(" ", header))
    labels = {normalise_header(f.label_id): f.label_id for f in SUBMISSION_FIELDS}
    best = difflib.get_close_matches(key, list(labels), n=1, cutoff=0.75)
    if best:
        return labels[best[0]]
    alias = difflib.get_close_matches(key, list(header_lookup()), n=1, cutoff=0.8)
    return _label(header_lookup()[alias[0]]) if alias else None


@dataclass
class _Layout:
    header_row: int  # 1-based row number of the header
    columns: dict[int, str]  # position -> field name
    warnings: list[dict]


# What a header row says, whichever file it is in: (position, field) of the columns read, then
# ("unknown", shown text, hint) and ("duplicate", field, shown text) notices in cell order, then the
# required fields it lacks.
_HeaderMap = tuple[tuple[tuple[int, str], ...], tuple[tuple[str, str, str | None], ...], tuple[str, ...]]


def _header_map(cells: tuple[object, ...]) -> _HeaderMap:
    columns: dict[int, str] = {}
    notes: list[tuple[str, str, str | None]] = []
    for pos, cell in enumerate(cells):
        if cell is None or not str(cell).strip():
            continue
        name = match_header(cell)
        shown = str(cell).strip()[:80]
        shown_safe = neutralise(shown)
        if name is None:
            notes.append(("unknown", shown_safe, _suggest(shown)))
        elif name in columns.values():
            notes.append(("duplicate", name, shown_safe))
        else:
            columns[pos] = name
    missing = tuple(f.name for f in SUBMISSION_FIELDS if f.required and f.name not in columns.values())
    return tuple(columns.items()), tuple(notes), missing


# Files made from the template repeat the same header row; mapping it (and suggesting names for
# unknown columns, a difflib search) is done once per distinct row. Only rows of text are kept:
# equal tuples of other types can differ in their text (1 == 1.0 == True).
_header_map_cached = lru_cache(maxsize=1_024)(_header_map)


def _layout(file: str, sheet: str | None, header_row: int, cells: list[object]) -> _Layout:
    """Map header cells to fields; warn about unknown/duplicate columns; reject missing required ones."""
    key = tuple(cells)
    text_only = all(c is None or type(c) is str for c in key)
    pairs, notes, missing = _header_map_cached(key) if text_only else _header_map(key)
    warnings: list[dict] = []
    w, we = _where(file, sheet), _where_en(file, sheet)
    for kind, a, b in notes:
        if kind == "unknown":
            shown_safe, hint = a, b
            tail_id = (
                f" — maksud Anda '{hint}'?" if hint else ". Hapus kolom itu atau pakai judul dari templat."
            )
            tail_en = f" — did you mean '{hint}'?" if hint else ". Remove it or use a template header."
            warnings.append(
                _file_error(
                    file,
                    "unknown_column",
                    f"Kolom '{shown_safe}' di {w} tidak dikenal dan diabaikan{tail_id}",
                    f"Column '{shown_safe}' in {we} is not recognised and was ignored{tail_en}",
                    "warning",
                )
            )
        else:
            name, shown_safe = a, b
            warnings.append(
                _file_error(
                    file,
                    "duplicate_column",
                    f"Kolom '{_label(name)}' muncul lebih dari sekali di {w}; hanya kolom pertama yang "
                    f"dibaca ('{shown_safe}' diabaikan). Hapus kolom rangkap.",
                    f"Column '{FIELDS[name].label_en}' appears more than once in {we}; only the first is read.",
                    "warning",
                )
            )
    if missing:
        lacking = [FIELDS[n] for n in missing]
        rej = _rejected(
            "missing_columns",
            file,
            sheet,
            labels_id=", ".join(f"'{f.label_id}'" for f in lacking),
            labels_en=", ".join(f"'{f.label_en}'" for f in lacking),
        )
        rej.notes = warnings
        raise rej
    return _Layout(header_row, dict(pairs), warnings)


def _sheet_layout(
    file: str, sheet: str, head: list[list[object]], best: tuple[int, int], rejected: list[FileRejected]
) -> tuple[int, _Layout] | None:
    """(header index, layout) of a sheet from its first rows and best header row; None when the sheet
    names too few fields (another sheet may hold the data) or its header is rejected (kept in
    ``rejected``: the file's error if no sheet can be read). Shared by the calamine and openpyxl paths."""
    h, score = best
    if score < MIN_HEADER_MATCHES:
        return None
    try:
        return h, _layout(file, sheet, h + 1, head[h])
    except FileRejected as rej:
        rejected.append(rej)
        return None


def _nothing_read(file: str, rejected: list[FileRejected]) -> FileRejected:
    """The error of a workbook where no sheet could be read: the first sheet's rejection, else no header."""
    return rejected[0] if rejected else _rejected("no_header", file)


def _best_header(rows: list[list[object]]) -> tuple[int, int]:
    """(index, score) of the row in ``rows`` that names the most fields."""
    best, best_score = -1, 0
    for i, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = _header_score(cells)
        if score > best_score:
            best, best_score = i, score
    return best, best_score


# --- typing raw rows ----------------------------------------------------------------------------------
class _FormulaWithoutValue:
    """Stands in a raw XLSX cell whose formula has no stored value (openpyxl data_only gives None)."""

    def __repr__(self) -> str:
        return "<rumus tanpa nilai>"

    def __reduce__(self) -> str:
        return "FORMULA_NO_VALUE"  # the one instance, also after a trip to a worker process


FORMULA_NO_VALUE = _FormulaWithoutValue()


def _is_num_cell(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _text_field(raw: pd.Series, name: str) -> pd.Series:
    """Stripped text; Excel numbers lose no digits ("6471", not "6471.0") and codes regain the
    leading zeros Excel drops (KBLI "01111" typed as 1111)."""
    # A cell of a column one file of the batch lacks is NaN/NA after the concat: empty, not "nan".
    missing = raw.isna()
    if raw.dtype == "object":
        is_num = raw.map(_is_num_cell).astype(bool) & ~missing
        if is_num.any():
            nums = pd.to_numeric(raw[is_num], errors="coerce")
            whole = nums.notna() & (nums % 1 == 0) & (nums.abs() < 1e17)
            as_text = nums.astype("object").map(repr)
            as_text[whole] = nums[whole].astype("int64").astype("str")
            width = {"nib": 13, "kbli_code": 5}.get(name)
            if width:
                as_text[whole] = as_text[whole].str.zfill(width)
            raw = raw.copy()
            raw[is_num] = as_text
        raw = raw.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    s = raw.astype("str").str.strip()
    return s.mask((s == "") | missing)


def _parse_field(raw: pd.Series, name: str) -> Parsed | None:
    f = FIELDS[name]
    if name == "period":
        return parse_periods(raw)
    if f.dtype == "date":
        return parse_dates(raw)
    if f.dtype == "int64":
        return parse_numbers(raw, integer=True)
    if f.dtype == "float64":
        return parse_numbers(raw, integer=False)
    return None


def _raw_text(raw: pd.Series) -> pd.Series:
    if raw.dtype != "object":
        return raw.astype("str").fillna("")
    return raw.map(
        lambda v: (
            "" if v is None or v is FORMULA_NO_VALUE or (isinstance(v, float) and np.isnan(v)) else str(v)
        )
    )


def _parse_grouped(cols: dict[str, pd.Series], n: int) -> dict[str, Parsed]:
    """Parse all columns of one kind as one long Series, then split it back per field.

    Per-call pandas overhead dominates small blocks, so the 16 money fields cost one call, not 16.
    """
    kinds: dict[str, list[str]] = {}
    for name in cols:
        f = FIELDS[name]
        kind = "period" if name == "period" else f.dtype
        if kind in ("int64", "float64", "date", "period"):
            kinds.setdefault(kind, []).append(name)
    parsers = {
        "int64": lambda s: parse_numbers(s, integer=True),
        "float64": lambda s: parse_numbers(s, integer=False),
        "date": parse_dates,
        "period": parse_periods,
    }
    out: dict[str, Parsed] = {}
    idx = pd.RangeIndex(n)
    for kind, names in kinds.items():
        long = pd.concat([cols[c] for c in names], ignore_index=True)
        p = parsers[kind](long)
        for j, name in enumerate(names):
            sl = slice(j * n, (j + 1) * n)
            out[name] = Parsed(
                p.values.iloc[sl].set_axis(idx),
                p.bad.iloc[sl].set_axis(idx),
                p.reason.iloc[sl].set_axis(idx),
            )
    return out


def _type_rows(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Type a block of raw rows (field-name columns plus provenance) and list its bad cells.

    Blocks from many small files are typed together: each pandas call costs the same for one row
    or a hundred thousand, so typing per file would dominate a folder of one-row submissions.
    """
    raw = raw.reset_index(drop=True)
    idx = raw.index
    out: dict[str, pd.Series] = {}
    errors: list[pd.DataFrame] = []
    files = raw["source_file"].astype("str")
    sheets = raw["source_sheet"].astype("str")
    rows_txt = raw["source_row"].astype("int64").astype("str")
    where_id = "berkas '" + files + "'" + (" (lembar '" + sheets + "')").fillna("")
    where_en = "file '" + files + "'" + (" (sheet '" + sheets + "')").fillna("")
    cols: dict[str, pd.Series] = {}
    formulas: dict[str, pd.Series] = {}
    for f in SUBMISSION_FIELDS:
        if f.name not in raw.columns:
            continue
        col = raw[f.name]
        formula = pd.Series(False, index=idx)
        if col.dtype == "object":
            formula = col.map(lambda v: v is FORMULA_NO_VALUE).astype(bool)
            if formula.any():
                col = col.mask(formula, None)
        cols[f.name], formulas[f.name] = col, formula
    parsed_all = _parse_grouped(cols, len(idx))
    for f in SUBMISSION_FIELDS:
        if f.name not in cols:
            out[f.name] = pd.Series(pd.NA, index=idx).astype(pandas_dtype(f))
            continue
        col, formula = cols[f.name], formulas[f.name]
        parsed = parsed_all.get(f.name)
        if parsed is None:
            out[f.name] = _text_field(col, f.name)
            bad = pd.Series(False, index=idx)
            reason = pd.Series(pd.NA, index=idx, dtype="str")
        else:
            out[f.name] = parsed.values.astype(pandas_dtype(f))
            bad, reason = parsed.bad, parsed.reason
        if formula.any():
            bad = bad | formula
            reason = reason.mask(formula, "formula_without_value")
        if not bad.any():
            continue
        codes = reason[bad]
        values = neutralise(_raw_text(col[bad]).str.slice(0, 200).astype("str"))
        values = values.mask(formula[bad], "")
        shown = values.str.slice(0, 60)
        r_id = codes.map(lambda c: _CELL_REASONS[c][0])
        r_en = codes.map(lambda c: _CELL_REASONS[c][1])
        errors.append(
            pd.DataFrame(
                {
                    "source_file": files[bad],
                    "source_sheet": sheets[bad],
                    "source_row": raw.loc[bad, "source_row"].astype("int64"),
                    "column": f.name,
                    "value": values,
                    "reason_code": codes,
                    "reason_id": "Baris "
                    + rows_txt[bad]
                    + f", kolom '{_label(f.name)}' di "
                    + where_id[bad]
                    + ": '"
                    + shown
                    + "' "
                    + r_id
                    + ".",
                    "reason_en": "Row "
                    + rows_txt[bad]
                    + f", column '{f.label_en}' in "
                    + where_en[bad]
                    + ": '"
                    + shown
                    + "' "
                    + r_en
                    + ".",
                }
            )
        )
    typed = pd.DataFrame(out, index=idx)
    for p in PROVENANCE_FIELDS:
        typed[p.name] = raw[p.name].astype("int64" if p.dtype == "int64" else "str").to_numpy()
    return typed, (pd.concat(errors, ignore_index=True) if errors else None)


def _is_blank_cell(v: object) -> bool:
    """What ``isna() | astype(str).str.strip() == ""`` says of one raw cell."""
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, (bool, int, datetime)):
        return False
    if isinstance(v, float):
        return v != v
    return bool(pd.isna(v)) if np.ndim(v) == 0 else False


def _blank_mask(rows: list[list[object]]) -> list[bool]:
    return [all(_is_blank_cell(v) for v in row) for row in rows]


def _blank_rows(block: pd.DataFrame, columns: list) -> pd.Series:
    """Rows with nothing in any mapped column (trailing blank lines, spacer rows)."""
    cols = [c for c in columns if c in block.columns]
    if not cols:
        return pd.Series(True, index=block.index)
    sub = block[cols]
    if len(sub) > 2_000 and all(sub[c].dtype == "str" for c in cols):
        # Big CSV chunks: column-wise string operations beat a Python loop over the cells.
        blank = np.ones(len(sub), dtype=bool)
        for c in cols:
            s = sub[c]
            blank &= (s.isna() | s.str.strip().eq("")).fillna(False).to_numpy(dtype=bool)
        return pd.Series(blank, index=block.index)
    # One Python pass over the cells: per-column pandas calls cost more than the work on small blocks.
    return pd.Series(_blank_mask(sub.to_numpy(dtype=object).tolist()), index=block.index, dtype=bool)


def _raw_block(
    cells: pd.DataFrame, layout: _Layout, source_rows: pd.Series, sheet: str | None
) -> pd.DataFrame:
    """Raw cells renamed to field names, blank rows dropped, with row number and sheet."""
    keep = ~_blank_rows(cells, list(layout.columns))
    block = cells.loc[keep, list(layout.columns)].rename(columns=layout.columns)
    block["source_row"] = source_rows.to_numpy()[keep.to_numpy()]
    block["source_sheet"] = sheet
    return block.reset_index(drop=True)


@dataclass
class _RawRows:
    """Raw rows of a small file or sheet as Python lists (blank rows dropped), by field.

    Building a DataFrame per one-row file costs milliseconds; these are turned into one frame for
    many files at typing time (:func:`_frame_of`), with exactly the values a per-file frame held.
    """

    fields: list[str]
    rows: list[list[object]]
    source_rows: list[int]
    sheet: str | None
    text: bool  # CSV text (typed as pandas ``str``), else XLSX Python objects
    source_file: str = ""
    file_sha256: str = ""
    file_order: int = 0

    def __len__(self) -> int:
        return len(self.rows)


def _raw_rows(
    rows: list[list[object]], columns: dict[int, str], source_rows: list[int], sheet: str | None, text: bool
) -> _RawRows:
    """Like :func:`_raw_block` for rows already padded to the header's width."""
    pos = list(columns)
    kept: list[list[object]] = []
    nums: list[int] = []
    for row, no in zip(rows, source_rows, strict=True):
        vals = [row[p] for p in pos]
        if not all(_is_blank_cell(v) for v in vals):
            kept.append(vals)
            nums.append(no)
    return _RawRows([columns[p] for p in pos], kept, nums, sheet, text)


def _frame_of(raws: list[_RawRows]) -> pd.DataFrame:
    """One raw frame for many small blocks: what ``pd.concat`` of their per-file frames gives."""
    names = [f.name for f in SUBMISSION_FIELDS if any(f.name in r.fields for r in raws)]
    data: dict[str, list[object]] = {name: [] for name in names}
    for r in raws:
        n = len(r.rows)
        columns = list(zip(*r.rows, strict=True)) if n else []
        pos = {f: j for j, f in enumerate(r.fields)}
        for name in names:
            j = pos.get(name)
            # pd.concat fills a column one file lacks with NaN
            data[name].extend(columns[j] if j is not None else [np.nan] * n)
    frame = pd.DataFrame(data, dtype=object)
    if raws[0].text:
        frame = frame.astype("str")
    frame["source_row"] = np.fromiter(itertools.chain.from_iterable(r.source_rows for r in raws), "int64")
    frame["source_sheet"] = pd.Series(
        list(itertools.chain.from_iterable([r.sheet] * len(r) for r in raws)), dtype=object
    )
    frame["source_file"] = list(itertools.chain.from_iterable([r.source_file] * len(r) for r in raws))
    frame["file_sha256"] = list(itertools.chain.from_iterable([r.file_sha256] * len(r) for r in raws))
    frame["file_order"] = np.fromiter(
        itertools.chain.from_iterable([r.file_order] * len(r) for r in raws), "int64"
    )
    return frame


# --- file probing ---------------------------------------------------------------------------------------
@dataclass
class _Probe:
    sha256: str
    size: int
    head: bytes
    utf8_ok: bool


def _probe(storage: Storage, rel: str, decode_utf8: bool) -> _Probe:
    """Hash the file in blocks; for CSVs also check that all of it decodes as UTF-8."""
    h = hashlib.sha256()
    size = 0
    head = b""
    dec = codecs.getincrementaldecoder("utf-8")("strict") if decode_utf8 else None
    utf8_ok = decode_utf8
    # A local file opened directly: fsspec's open costs more than hashing a one-company file.
    with open(storage.local_path(rel), "rb") if storage.is_local else storage.open(rel, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            if not block:
                break
            if len(head) < SNIFF_BYTES:
                head += block[: SNIFF_BYTES - len(head)]
            h.update(block)
            size += len(block)
            if dec is not None and utf8_ok:
                try:
                    dec.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
        if dec is not None and utf8_ok:
            try:
                dec.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8_ok = False
    return _Probe(h.hexdigest(), size, head, utf8_ok)


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return ctrl > max(2, len(head) // 100)


def _cfb_is_encrypted(storage: Storage, rel: str) -> bool:
    """An OLE2/CFB file holding an EncryptionInfo stream is a password-protected OOXML workbook."""
    marker = "EncryptionInfo".encode("utf-16-le")
    with storage.open(rel, "rb") as fh:
        data = fh.read(4 << 20)
    return marker in data


# --- CSV ----------------------------------------------------------------------------------------------
def _csv_header(text_head: str) -> tuple[str, int, list[str]]:
    """(delimiter, header line index, header cells) chosen by the best header match."""
    lines = text_head.splitlines()[:HEADER_SCAN_ROWS]
    best = (",", -1, [], 0)
    for delim in (";", ",", "\t", "|"):
        rows = list(csv.reader(lines, delimiter=delim))
        i, score = _best_header(rows)
        if score > best[3]:
            best = (delim, i, rows[i], score)
    return best[0], best[1], best[2]


def _ragged(file: str, bad_rows: list[int], ncols: int) -> FileRejected:
    rows_txt = ", ".join(str(r) for r in bad_rows[:5])
    return _rejected(
        "bad_structure",
        file,
        detail_id=f"baris {rows_txt} berisi lebih banyak kolom dari judul kolom ({ncols}); "
        "ada tanda pemisah di dalam nilai tanpa tanda kutip?",
        detail=f"rows {rows_txt} have more fields than the header ({ncols})",
    )


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Characters str.splitlines() breaks on besides CR/LF: the header was found with splitlines().
_ODD_BREAK = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _simple_csv_rows(
    data: bytes, encoding: str, strict: bool, delim: str, h: int, width: int, chunk_rows: int
) -> list[list[str]] | None:
    """Data rows of a small CSV without quotes, split in Python exactly as pandas' C parser would
    (``dtype=str``, no NA filter, blank lines kept, short rows padded with ""); None when the text
    has anything that needs the real parser (quotes, NUL, odd line breaks, too many fields).

    pandas costs ~5 ms per call, which dominates a folder of one-row company files.
    """
    text = data.decode(encoding, errors="strict" if strict else "replace")
    if '"' in text or "\x00" in text or _ODD_BREAK.search(text):
        return None
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # the break that ends the last line starts no row
    lines = lines[h + 1 :]
    if len(lines) > chunk_rows:
        return None
    rows: list[list[str]] = []
    for line in lines:
        cells = line.split(delim)
        if len(cells) > width:
            return None  # pandas raises here; let it word the error
        cells.extend([""] * (width - len(cells)))
        rows.append(cells)
    return rows


def _read_csv(
    storage: Storage, rel: str, file: str, probe: _Probe, chunk_rows: int
) -> Iterator[tuple[pd.DataFrame, list[dict]]]:
    if _looks_binary(probe.head):
        raise _rejected("not_text", file)
    encoding = "utf-8-sig" if probe.utf8_ok else "cp1252"
    notices: list[dict] = []
    if not probe.utf8_ok:
        notices.append(
            _file_error(
                file,
                "encoding_cp1252",
                f"Berkas '{file}' tidak memakai pengodean UTF-8; dibaca sebagai Windows-1252. Periksa "
                "huruf khusus pada nama perusahaan; lain kali simpan sebagai 'CSV UTF-8'.",
                f"File '{file}' is not UTF-8; read as Windows-1252. Check special characters; save as "
                "'CSV UTF-8' next time.",
                "warning",
            )
        )
    # The sniffed head may end inside a multi-byte character; "replace" keeps the header intact.
    head_text = probe.head.decode(encoding, errors="replace")
    delim, h, cells = _csv_header(head_text)
    if h < 0 or _header_score(cells) < MIN_HEADER_MATCHES:
        raise _rejected("no_header", file)
    layout = _layout(file, None, h + 1, cells)
    notices.extend(layout.warnings)
    ncols = len(cells)
    # A few spare columns catch rows with more fields than the header (an unquoted separator
    # inside a value shifts every later column); rows with even more fields make pandas raise.
    width = ncols + EXTRA_CSV_COLUMNS
    first_data_row = h + 2
    if USE_FAST_CSV and probe.size <= SNIFF_BYTES:
        rows = _simple_csv_rows(probe.head, encoding, probe.utf8_ok, delim, h, width, chunk_rows)
        if rows is not None:
            source_rows = list(range(first_data_row, first_data_row + len(rows)))
            bad_rows = [
                n for n, r in zip(source_rows, rows, strict=True) if any(v.strip() for v in r[ncols:])
            ]
            if bad_rows:
                raise _ragged(file, bad_rows, ncols)
            yield _raw_rows(rows, layout.columns, source_rows, None, True), notices
            return
    rows_seen = 0
    with storage.open(rel, "rb") as fh:
        try:
            reader = pd.read_csv(
                fh,
                sep=delim,
                header=None,
                names=list(range(width)),
                index_col=False,
                skiprows=h + 1,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                encoding=encoding,
                encoding_errors="strict" if probe.utf8_ok else "replace",
                chunksize=chunk_rows,
                engine="c",
                quotechar='"',
            )
            first = True
            for chunk in reader:
                source_rows = pd.Series(np.arange(len(chunk), dtype="int64") + first_data_row + rows_seen)
                rows_seen += len(chunk)
                chunk = chunk.reset_index(drop=True).astype("str")
                spare = chunk[list(range(ncols, width))]
                ragged = spare.notna() & spare.apply(lambda c: c.str.strip().ne(""))
                if ragged.to_numpy().any():
                    raise _ragged(file, source_rows[ragged.any(axis=1).to_numpy()].tolist(), ncols)
                yield _raw_block(chunk, layout, source_rows, None), (notices if first else [])
                first = False
            if first:
                yield pd.DataFrame(), notices
        except pd.errors.ParserError as exc:
            detail = str(exc).strip().splitlines()[-1][:200]
            raise _rejected(
                "bad_structure",
                file,
                detail_id=f"jumlah kolom tidak sama di setiap baris ({detail})",
                detail=detail,
            ) from exc


# --- XLSX ------------------------------------------------------------------------------------------
def _check_zip(
    path: Any, file: str, max_uncompressed_bytes: int, then: Callable[[Any], bool] | None = None
) -> bool:
    """Reject non-workbooks, damaged archives and zip bombs before openpyxl opens anything.

    ``then`` runs on the open archive once it passed (one open of the central directory, not two);
    its answer is returned.
    """
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
        names = {i.filename for i in infos}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise _rejected("corrupt_xlsx", file) from exc
    with zf:
        _check_infos(infos, names, file, max_uncompressed_bytes)
        return then(zf) if then is not None else False


def _check_infos(infos: list, names: set[str], file: str, max_uncompressed_bytes: int) -> None:
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
        raise _rejected("not_xlsx", file)
    total = sum(i.file_size for i in infos)
    worst = max(
        (i.file_size / max(i.compress_size, 1) for i in infos if i.file_size >= RATIO_CHECK_MIN_BYTES),
        default=0.0,
    )
    if total > max_uncompressed_bytes or worst > MAX_COMPRESSION_RATIO:
        raise _rejected("zip_bomb", file, mb=f"{total / 1e6:,.0f}".replace(",", "."))


def _sheets_with_formulas(path: Any) -> bool:
    """Whether any worksheet XML holds a <f> element (scanned in blocks, never loaded whole)."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            tail = b""
            with zf.open(info) as fh:
                while True:
                    block = fh.read(1 << 20)
                    if not block:
                        break
                    data = tail + block
                    if re.search(rb"<(?:\w+:)?f[ >/]", data):
                        return True
                    tail = data[-16:]
    return False


def _formula_cells(path: Any, sheet: str, data_rows: Iterator[tuple]) -> set[tuple[int, int]]:
    """(row, column) of formula cells whose cached value is missing, 1-based."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb[sheet]
        out: set[tuple[int, int]] = set()
        for r, (frow, vrow) in enumerate(zip(ws.iter_rows(values_only=True), data_rows, strict=False), 1):
            for c, fv in enumerate(frow, 1):
                if isinstance(fv, str) and fv.startswith("=") and (c > len(vrow) or vrow[c - 1] is None):
                    out.add((r, c))
        return out
    finally:
        wb.close()


def _src(path: Any, data: bytes | None) -> Any:
    """A fresh handle on the workbook for each library that opens it."""
    return io.BytesIO(data) if data is not None else path


def _sheet_chunks(
    head: list[list[object]],
    h: int,
    rest: Iterator,
    width: int,
    chunk_rows: int,
    formula_by_row: dict[int, list[int]],
    convert: Callable[[Any], list[object]] = list,
) -> Iterator[tuple[list[list[object]], list[int]]]:
    """Data rows under the header row ``h`` (0-based), padded to ``width``, with their row numbers."""
    buf: list[list[object]] = []
    nums: list[int] = []
    row_no = h + 1
    for row in itertools.chain(head[h + 1 :], (convert(r) for r in rest)):
        row_no += 1
        cells = (list(row) + [None] * width)[:width]
        for c in formula_by_row.get(row_no, ()):
            if c <= width:
                cells[c - 1] = FORMULA_NO_VALUE
        buf.append(cells)
        nums.append(row_no)
        if len(buf) >= chunk_rows:
            yield buf, nums
            buf, nums = [], []
    if buf:
        yield buf, nums


def _read_xlsx(
    storage: Storage,
    rel: str,
    file: str,
    max_uncompressed_bytes: int,
    chunk_rows: int,
    data: bytes | None = None,
) -> Iterator[tuple[pd.DataFrame | _RawRows, list[dict]]]:
    """Read every data sheet; ``data`` holds the whole file when the probe already read it."""
    with nullcontext(None) if data is not None else storage.local_copy(rel) as path:
        agrees = _check_zip(
            _src(path, data),
            file,
            max_uncompressed_bytes,
            (lambda zf: _calamine_agrees(zf, data)) if USE_CALAMINE else None,
        )
        if agrees:
            try:
                blocks = list(_read_xlsx_calamine(_src(path, data), file, chunk_rows))
            except FileRejected:
                raise
            except Exception:  # noqa: S110 - any doubt (or calamine failing): openpyxl decides
                pass
            else:
                yield from blocks
                return
        yield from _read_xlsx_openpyxl(_src, path, data, file, chunk_rows)


def _read_xlsx_openpyxl(
    src: Callable[[Any, bytes | None], Any], path: Any, data: bytes | None, file: str, chunk_rows: int
) -> Iterator[tuple[pd.DataFrame | _RawRows, list[dict]]]:
    from openpyxl import load_workbook

    has_formulas = _sheets_with_formulas(src(path, data))
    try:
        wb = load_workbook(src(path, data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged parts
        raise _rejected("corrupt_xlsx", file) from exc
    notices: list[dict] = []
    read_any = False
    rejected: list[FileRejected] = []
    try:
        for ws in wb.worksheets:
            sheet = ws.title
            if _normalise(sheet) in IGNORED_SHEETS:
                continue
            rows_iter = ws.iter_rows(values_only=True)
            head: list[list[object]] = []
            for row in rows_iter:
                head.append(list(row))
                if len(head) >= HEADER_SCAN_ROWS:
                    break
            laid = _sheet_layout(file, sheet, head, _best_header(head), rejected)
            if laid is None:
                continue
            h, layout = laid
            notices.extend(layout.warnings)
            formula_cells: set[tuple[int, int]] = set()
            if has_formulas:
                vals = load_workbook(src(path, data), read_only=True, data_only=True)
                try:
                    formula_cells = _formula_cells(
                        src(path, data), sheet, vals[sheet].iter_rows(values_only=True)
                    )
                finally:
                    vals.close()
            read_any = True
            width = max(layout.columns) + 1
            formula_by_row: dict[int, list[int]] = {}
            for r, c in formula_cells:
                formula_by_row.setdefault(r, []).append(c)
            for buf, nums in _sheet_chunks(head, h, rows_iter, width, chunk_rows, formula_by_row):
                yield _raw_rows(buf, layout.columns, nums, sheet, False), notices
                notices = []
    finally:
        wb.close()
    if not read_any:
        raise _nothing_read(file, rejected)
    if notices:
        yield pd.DataFrame(), notices


# --- XLSX through calamine -------------------------------------------------------------------------------
# calamine parses a small workbook ~25x faster than openpyxl. It is used only where it is known to give
# openpyxl's values cell for cell (checked in tests/test_reader_bad_inputs.py); anything else goes to
# openpyxl: formulas (cached values and the "formula without value" check), error cells, typed-date
# cells (t="d"), the 1904 date system, chart/dialog/macro sheets, _xHHHH_ escapes and raw CRs in
# strings (openpyxl keeps them as written), number formats the two libraries classify differently as
# dates, and values calamine returns differently (times, durations, date-times, dates before March 1900,
# integers beyond 2**53).
class _UseOpenpyxl(Exception):
    """calamine's value may differ from openpyxl's here."""


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")
_ERROR_OR_DATE_CELL = re.compile(rb"\bt\s*=\s*[\"'][ed][\"']")
_ESCAPE = re.compile(rb"_x[0-9A-Fa-f]{4}_")
_FORMULA_HINTS = (b"<f>", b"<f ", b"<f/", b":f>", b":f ", b":f/")
_TYPE_HINTS = (b'"e"', b"'e'", b'"d"', b"'d'")


def _calamine_unsure(xml: bytes) -> bool:
    """Formula, error or typed-date cell, _xHHHH_ escape or raw CR in a sheet or string table.

    Substring tests first (memchr speed; "<formula1>" of a data validation is not a formula cell,
    an attribute value "e" or "d" is all but only the cell type); the regular expressions confirm.
    """
    if b"\r" in xml:
        return True
    # Every formula hint ends in one of three two-byte strings: three passes instead of six when
    # there is no formula, the usual case.
    if b"f>" in xml or b"f " in xml or b"f/" in xml:
        if any(tag in xml for tag in _FORMULA_HINTS) and _FORMULA_TAG.search(xml):
            return True
    if any(v in xml for v in _TYPE_HINTS) and _ERROR_OR_DATE_CELL.search(xml):
        return True
    return b"_x" in xml and _ESCAPE.search(xml) is not None


_FORMAT_CODE = re.compile(rb"formatCode\s*=\s*\"([^\"]*)\"")
_DATE1904 = re.compile(rb"date1904\s*=\s*[\"'](?:1|true)[\"']")
_FIRST_DATE = date(1900, 3, 1)  # before it the two libraries disagree (Excel's 1900 leap-year bug)


def _calamine_date_format(fmt: str) -> bool:
    """calamine's rule (formats.rs is_custom_date_format): is a custom number format a date?"""
    escaped = is_quote = ap = hms = False
    brackets = 0
    prev = " "
    for ch in fmt:
        if escaped:
            escaped = False
        elif ch in "_\\":
            escaped = True
        elif is_quote:
            if ch == '"':
                is_quote = False
        elif ch == '"':
            is_quote = True
        elif ch == ";":
            return False
        elif ch == "[":
            brackets += 1
        elif ch == "]" and brackets == 1 and hms:
            return True
        elif ch == "]":
            brackets = max(brackets - 1, 0)
        elif ch in "aA" and not ap and brackets == 0:
            ap = True
        elif ch in "pm/PM" and ap and brackets == 0:
            return True
        elif ch in "dmhysDMHYS" and not ap and brackets == 0:
            return True
        elif not (hms and ch.lower() == prev.lower()):
            hms = prev == "[" and ch in "mhsMHS"
        prev = ch
    return False


@lru_cache(maxsize=4_096)
def _date_rules_agree(code: bytes) -> bool:
    from openpyxl.styles.numbers import is_date_format

    fmt = html.unescape(code.decode("utf-8", "replace"))
    return bool(is_date_format(fmt)) == _calamine_date_format(fmt)


def _calamine_agrees(zf: zipfile.ZipFile, data: bytes | None = None) -> bool:
    """Whether calamine reads this (zip-checked, open) workbook exactly as openpyxl would.

    ``data`` is the archive's bytes when ``zf`` reads them from memory (see :func:`_member`).
    """
    try:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        if any(n.startswith(("xl/chartsheets/", "xl/dialogsheets/", "xl/macrosheets/")) for n in names):
            return False
        parts = [
            i
            for i in infos
            if (i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"))
            or "sharedstrings" in i.filename.lower()
        ]
        if sum(i.file_size for i in parts) > CALAMINE_MAX_XML_BYTES:
            return False
        for n in names:
            # By name, as zf.read(n) does: a repeated name reads its last entry.
            if n.startswith("xl/workbook") and n.endswith(".xml"):
                if _DATE1904.search(_member(zf, zf.getinfo(n), data)):
                    return False
            if n == "xl/styles.xml":
                if not _by_content(_styles_agree, _styles_agree_cached, _member(zf, zf.getinfo(n), data)):
                    return False
        return not any(
            _by_content(_calamine_unsure, _calamine_unsure_cached, _member(zf, i, data)) for i in parts
        )
    except Exception:
        return False


# Inflated members by what determines them. Once ``zf.open`` has checked a member's local header
# (signature, name, flags, encryption), what its reader returns depends only on the compressed
# bytes that follow the header and on the method, sizes and CRC from the central directory; equal
# keys give equal bytes (or an error that is never cached). Template files repeat most members
# byte for byte, so they are neither inflated nor hashed again (the verdict caches below see the
# same bytes object, whose hash Python keeps).
_MEMBERS: dict[tuple[int, int, int, int, bytes], bytes] = {}
_MEMBERS_MAX = 32
_MEMBERS_LOCK = threading.Lock()
_LOCAL_HEADER_BYTES = 30  # fixed part of a zip local file header; name and extra lengths at 26, 28


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes | None) -> bytes:
    """``zf.read(info)`` for an archive read from ``data`` (None: read it plainly)."""
    if data is None or info.file_size > _CACHED_PART_BYTES:
        return zf.read(info)
    with zf.open(info) as fh:
        at = info.header_offset + 26
        start = info.header_offset + _LOCAL_HEADER_BYTES + sum(struct.unpack_from("<HH", data, at))
        raw = data[start : start + info.compress_size]
        key = (info.compress_type, info.compress_size, info.file_size, info.CRC, raw)
        with _MEMBERS_LOCK:  # a reader in another thread must not make this one fail
            content = _MEMBERS.pop(key, None)
        if content is None:
            content = fh.read()
        with _MEMBERS_LOCK:
            _MEMBERS[key] = content  # last used last: the oldest entry goes first
            if len(_MEMBERS) > _MEMBERS_MAX:
                del _MEMBERS[next(iter(_MEMBERS))]
        return content


def _styles_agree(xml: bytes) -> bool:
    """Whether both libraries class every number format of a styles part alike as date or not."""
    return all(_date_rules_agree(code) for code in _FORMAT_CODE.findall(xml))


# Files made from the template share their styles and their instruction and code sheets byte for
# byte, so a verdict on a part is kept by its content (the bytes themselves are the key: equal
# content, equal verdict). Scanning a sheet costs ~10 substring passes; hashing it, one. Only small
# parts are kept, so the caches hold at most a few MB.
_CACHED_PART_BYTES = 262_144
_styles_agree_cached = lru_cache(maxsize=16)(_styles_agree)
_calamine_unsure_cached = lru_cache(maxsize=32)(_calamine_unsure)


def _by_content(check: Callable[[bytes], bool], cached: Callable[[bytes], bool], xml: bytes) -> bool:
    return cached(xml) if len(xml) <= _CACHED_PART_BYTES else check(xml)


def _from_calamine(v: object) -> object:
    """The value openpyxl (read-only, data_only) gives for a cell calamine read as ``v``."""
    t = type(v)
    if t is str:
        return v or None  # calamine gives "" for an empty cell, openpyxl None
    if t is float:
        if v.is_integer():  # type: ignore[union-attr]
            if abs(v) >= 2**53:  # type: ignore[arg-type]
                raise _UseOpenpyxl
            return int(v)  # type: ignore[arg-type]
        return v
    if t is bool:
        return v
    if t is date:
        if v < _FIRST_DATE:  # type: ignore[operator]
            raise _UseOpenpyxl
        return datetime(v.year, v.month, v.day)  # type: ignore[union-attr]
    raise _UseOpenpyxl


def _from_calamine_row(row: list[object]) -> list[object]:
    # Text, most cells of a template, without a call per cell.
    return [(v or None) if type(v) is str else _from_calamine(v) for v in row]


# The first rows of a sheet of text only (the template's code list) recur in every file made from
# it; where the header is in them (none there) is found once per distinct text. Small heads only,
# so the cache stays small.
_TEXT_HEAD_MAX_CHARS = 65_536
_STR_ONLY = {str}


@lru_cache(maxsize=64)
def _text_head_header(top: tuple[tuple[str, ...], ...]) -> tuple[int, int]:
    return _best_header([_from_calamine_row(list(r)) for r in top])


def _head_header(top: list[list[object]]) -> tuple[int, int] | None:
    """:func:`_best_header` of ``top`` (calamine's first rows) from the cache, or None when it is
    not all text or too big to keep."""
    chars = 0
    for r in top:
        if r and set(map(type, r)) != _STR_ONLY:
            return None
        chars += sum(map(len, r))  # type: ignore[arg-type]
        if chars > _TEXT_HEAD_MAX_CHARS:
            return None
    return _text_head_header(tuple(map(tuple, top)))  # type: ignore[arg-type]


def _read_xlsx_calamine(
    src: Any, file: str, chunk_rows: int
) -> Iterator[tuple[_RawRows | pd.DataFrame, list[dict]]]:
    """The openpyxl path's logic over calamine's values (all of a small workbook, read eagerly)."""
    from python_calamine import CalamineWorkbook

    wb = (
        CalamineWorkbook.from_filelike(src)
        if isinstance(src, io.BytesIO)
        else CalamineWorkbook.from_path(str(src))
    )
    try:
        notices: list[dict] = []
        read_any = False
        rejected: list[FileRejected] = []
        for sheet in wb.sheet_names:
            if _normalise(sheet) in IGNORED_SHEETS:
                continue
            rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            found = _head_header(rows[:HEADER_SCAN_ROWS])
            if found is not None and found[1] < MIN_HEADER_MATCHES:
                continue  # text cells convert without error: nothing else would happen here
            head = [_from_calamine_row(r) for r in rows[:HEADER_SCAN_ROWS]]
            laid = _sheet_layout(file, sheet, head, found or _best_header(head), rejected)
            if laid is None:
                continue
            h, layout = laid
            notices.extend(layout.warnings)
            read_any = True
            width = max(layout.columns) + 1
            rest = iter(rows[HEADER_SCAN_ROWS:])
            for buf, nums in _sheet_chunks(head, h, rest, width, chunk_rows, {}, _from_calamine_row):
                yield _raw_rows(buf, layout.columns, nums, sheet, False), notices
                notices = []
        if not read_any:
            raise _nothing_read(file, rejected)
        if notices:
            yield pd.DataFrame(), notices
    finally:
        wb.close()


# --- the period --------------------------------------------------------------------------------------
def _format_of(name: str, head: bytes) -> str:
    ext = posixpath.splitext(name)[1].lower()
    if ext in _CSV_EXT:
        return "csv"
    if ext in _XLSX_EXT or ext == ".xls":
        return "xlsx" if head.startswith(_ZIP_MAGIC) else "unknown"
    return "unknown"


def _read_one(
    storage: Storage, rel: str, name: str, probe: _Probe, max_uncompressed_bytes: int, chunk_rows: int
) -> Iterator[tuple[pd.DataFrame, list[dict]]]:
    ext = posixpath.splitext(name)[1].lower()
    if probe.size == 0:
        raise _rejected("empty_file", name)
    if ext in _CSV_EXT:
        if probe.head.startswith(_CFB_MAGIC) or probe.head.startswith(_ZIP_MAGIC):
            raise _rejected("not_text", name)
        yield from _read_csv(storage, rel, name, probe, chunk_rows)
        return
    if ext in _XLSX_EXT or ext == ".xls":
        if probe.head.startswith(_CFB_MAGIC):
            raise _rejected("encrypted_xlsx" if _cfb_is_encrypted(storage, rel) else "xls_old_format", name)
        if not probe.head.startswith(_ZIP_MAGIC):
            if ext == ".xls":
                raise _rejected("xls_old_format", name)
            raise _rejected("not_xlsx", name)
        data = probe.head if probe.size <= len(probe.head) else None
        yield from _read_xlsx(storage, rel, name, max_uncompressed_bytes, chunk_rows, data)
        return
    raise _rejected("unknown_extension", name, ext=ext or "(tanpa ekstensi)")


def _concat_rows(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames[:] = [f for f in frames if len(f)]
    if not frames:
        return empty_rows_frame()
    rows = pd.concat(frames, ignore_index=True)[ROW_COLUMNS]
    frames.clear()  # the caller's typed blocks are no longer needed: halve the peak
    for f in SUBMISSION_FIELDS + PROVENANCE_FIELDS:
        want = pandas_dtype(f) if f.dtype != "int64" or f.nullable else "int64"
        if str(rows[f.name].dtype) != want:
            rows[f.name] = rows[f.name].astype(want)
    return rows


class _Typer:
    """Collects raw blocks and types them in batches of about ``chunk_rows`` rows.

    CSV blocks (all text) and XLSX blocks (Python objects) are batched apart so the big CSV path
    stays on vectorised string operations.
    """

    def __init__(self, chunk_rows: int) -> None:
        self.chunk_rows = chunk_rows
        self.pending: dict[bool, list[pd.DataFrame | _RawRows]] = {True: [], False: []}
        self.pending_rows: dict[bool, int] = {True: 0, False: 0}
        self.typed: list[pd.DataFrame] = []
        self.errors: list[pd.DataFrame] = []

    def type_now(
        self, blocks: list[pd.DataFrame | _RawRows]
    ) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
        frames: list[pd.DataFrame] = []
        run: list[_RawRows] = []
        for b in blocks:
            if not len(b):
                continue
            if isinstance(b, _RawRows):
                run.append(b)
                continue
            if run:
                frames.append(_frame_of(run))
                run = []
            frames.append(b)
        if run:
            frames.append(_frame_of(run))
        if not frames:
            return [], []
        typed, errors = _type_rows(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0])
        return [typed], ([errors] if errors is not None else [])

    def add(self, blocks: list[pd.DataFrame | _RawRows]) -> None:
        for b in blocks:
            if isinstance(b, _RawRows):
                text = b.text
            else:
                text = all(b[c].dtype != "object" for c in b.columns if c in FIELDS)
            self.pending[text].append(b)
            self.pending_rows[text] += len(b)
        for text in (True, False):
            if self.pending_rows[text] >= self.chunk_rows:
                self.flush(text)

    def add_typed(self, typed: list[pd.DataFrame], errors: list[pd.DataFrame]) -> None:
        self.typed.extend(typed)
        self.errors.extend(errors)

    def flush(self, text: bool | None = None) -> None:
        for key in (True, False) if text is None else (text,):
            typed, errors = self.type_now(self.pending[key])
            self.pending[key] = []
            self.pending_rows[key] = 0
            self.add_typed(typed, errors)


# --- small files, in a process pool for big periods -----------------------------------------------------
# A national month has ~10^4 one-company files of a few kB: each costs a few ms of parsing and they are
# independent, so they are parsed by worker processes (results in the same order, the same functions:
# identical output). Starting a worker costs ~1-2 s of imports, so small periods stay in-process.
POOL_MIN_FILES = 2_000
POOL_MAX_WORKERS = 2
POOL_BATCH_FILES = 64
POOL_BATCH_BYTES = 4_000_000
POOL_MAX_FILE_BYTES = 8_000_000  # parsed whole by a worker (its rows travel back at once)
READ_TARGET = "tasks.submission_readers:_read_batch"


@dataclass
class _SmallFile:
    name: str
    rel: str
    probe: _Probe
    order: int = 0  # first_seen_order in the manifest (the typed rows' file_order)


@dataclass
class _Outcome:
    """What reading one file gave: its blocks and notices, or why it was rejected."""

    blocks: list[tuple[pd.DataFrame | _RawRows, list[dict]]]
    rejected: tuple[str, str, str, list[dict]] | None = None  # code, reason_id, reason_en, notes
    failed: str | None = None  # the exception type of an unexpected failure
    # Set when a worker typed the batch (blocks then empty): the file's rows and notices, and on the
    # batch's first outcome its typed rows and cell errors.
    rows_read: int | None = None
    notes: list[dict] | None = None
    typed: tuple[list[pd.DataFrame], list[pd.DataFrame]] | None = None


class _ReadFailed(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _read_small(storage: Storage, f: _SmallFile, max_uncompressed_bytes: int, chunk_rows: int) -> _Outcome:
    """Read a file whose bytes the probe holds, all at once (an outcome travels between processes)."""
    try:
        return _Outcome(list(_read_one(storage, f.rel, f.name, f.probe, max_uncompressed_bytes, chunk_rows)))
    except FileRejected as rej:
        return _Outcome([], (rej.code, rej.reason_id, rej.reason_en, rej.notes))
    except Exception as exc:  # reported as read_failed, like a streamed file
        return _Outcome([], failed=type(exc).__name__)


def _replay(outcome: _Outcome) -> Iterator[tuple[pd.DataFrame | _RawRows, list[dict]]]:
    yield from outcome.blocks
    if outcome.rejected is not None:
        code, rid, ren, notes = outcome.rejected
        rej = FileRejected(code, rid, ren)
        rej.notes = notes
        raise rej
    if outcome.failed is not None:
        raise _ReadFailed(outcome.failed)


def _read_batch(settings: tuple, batch: list[_SmallFile]) -> list[_Outcome]:
    """One batch of small files, in a worker process (``tasks/process_pool.py``) or in-process."""
    global USE_CALAMINE, USE_FAST_CSV
    storage, USE_CALAMINE, USE_FAST_CSV, max_uncompressed_bytes, chunk_rows, type_min_rows = settings
    outcomes = [_read_small(storage, f, max_uncompressed_bytes, chunk_rows) for f in batch]
    ok = [o.rejected is None and o.failed is None for o in outcomes]
    rows = sum(len(b) for o, good in zip(outcomes, ok, strict=True) if good for b, _ in o.blocks)
    if rows < type_min_rows:
        return outcomes  # a few rows: typed later with many others (typing has a fixed cost per call)
    # A batch of bulk exports is typed where it was parsed: the typing runs on every core, and the rows
    # travel back typed (smaller than the raw text).
    typer = _Typer(chunk_rows)
    for f, o, good in zip(batch, outcomes, ok, strict=True):
        if good:
            read = _absorb(f, o, typer)
            o.rows_read, o.notes = read.rows_read, read.notes
        o.blocks = []
    typer.flush()
    outcomes[0].typed = (typer.typed, typer.errors)
    return outcomes


def _workers() -> int:
    """Worker processes for a big period: the cores this process may use, at most POOL_MAX_WORKERS."""
    return max(1, min(usable_cores(), POOL_MAX_WORKERS))


def _batches(files: list[_SmallFile]) -> list[list[_SmallFile]]:
    out: list[list[_SmallFile]] = [[]]
    size = 0
    for f in files:
        if out[-1] and (len(out[-1]) >= POOL_BATCH_FILES or size + f.probe.size > POOL_BATCH_BYTES):
            out.append([])
            size = 0
        out[-1].append(f)
        size += f.probe.size
    return [b for b in out if b]


def _read_small_files(
    storage: Storage, files: list[_SmallFile], max_uncompressed_bytes: int, chunk_rows: int, workers: int
) -> Iterator[tuple[_SmallFile, _Outcome]]:
    """Each file with its outcome, biggest batches first: from ``workers`` processes, or in-process.

    The bulk exports go first (parsed and typed in the workers, ``_read_batch``), then the many
    one-company files, whose rows this process types as they come back. Batches go to the generic
    worker pool, which reads a dead worker's batches in-process. ``close()`` on the returned generator
    stops the workers even if nothing was taken.
    """
    settings = (storage, USE_CALAMINE, USE_FAST_CSV, max_uncompressed_bytes, chunk_rows, WORKER_TYPE_MIN_ROWS)
    batches = _batches(files)
    batches.sort(key=lambda b: -sum(f.probe.size for f in b))  # stable: equal sizes keep their order
    # Every outcome may wait here while this process types (they are the input, held once anyway).
    results = map_batches(READ_TARGET, settings, batches, workers, len(batches))
    for batch, outcomes in zip(batches, results, strict=True):
        yield from zip(batch, outcomes, strict=True)


@dataclass
class _SmallRead:
    """A small file once its rows went to the typer: what the file's record and notices need."""

    rows_read: int
    notes: list[dict]
    rejected: tuple[str, str, str, list[dict]] | None = None
    failed: str | None = None


def _absorb(f: _SmallFile, outcome: _Outcome, typer: _Typer) -> _SmallRead:
    """Give a read file's rows (with their provenance) to the typer; a rejected file gives none."""
    if outcome.typed is not None:
        typer.add_typed(*outcome.typed)
    if outcome.rejected is not None or outcome.failed is not None:
        return _SmallRead(0, [], outcome.rejected, outcome.failed)
    if outcome.rows_read is not None:  # typed by the worker
        return _SmallRead(outcome.rows_read, outcome.notes or [])
    notes: list[dict] = []
    rows_read = 0
    blocks: list[pd.DataFrame | _RawRows] = []
    for block, block_notes in outcome.blocks:
        notes.extend(block_notes)
        if not len(block):
            continue
        _set_provenance(block, f.name, f.probe.sha256, f.order)
        rows_read += len(block)
        blocks.append(block)
    typer.add(blocks)
    return _SmallRead(rows_read, notes)


def _set_provenance(block: pd.DataFrame | _RawRows, name: str, sha256: str, order: int) -> None:
    if isinstance(block, _RawRows):
        block.source_file, block.file_sha256, block.file_order = name, sha256, order
    else:
        block["source_file"] = name
        block["file_sha256"] = sha256
        block["file_order"] = np.int64(order)


# In a big period this process types the one-company files' rows as they come back, this many at a
# time, so typing overlaps the workers' parsing instead of following it; a worker types a batch of
# at least WORKER_TYPE_MIN_ROWS rows itself (bulk exports).
OVERLAP_TYPE_ROWS = 5_000
WORKER_TYPE_MIN_ROWS = 5_000


@keep_workers()
def read_period(
    storage: Storage,
    period: str,
    *,
    max_uncompressed_bytes: int = 200_000_000,
    chunk_rows: int = 100_000,
    now: datetime | None = None,
) -> ReadResult:
    """Read every file in ``raw/submissions/<period>/``; one bad file never stops the others.

    Files are read in manifest order (first seen first). Memory stays bounded by ``chunk_rows``
    raw rows per file plus the typed result.
    """
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    folder = f"{SUBMISSIONS_DIR}/{period}"
    # Names come from the listing and are used only as data, never joined with anything a file says.
    # Storage's own half-written temp files are skipped; every other name is reported, even dotfiles.
    names = [
        n for n in storage.listdir(folder) if not _STORAGE_TMP.match(n) and not storage.isdir(f"{folder}/{n}")
    ]
    if len(names) >= POOL_MIN_FILES:
        prestart(_workers(), READ_TARGET)  # their start and imports overlap the probing below
    probes: dict[str, _Probe] = {}
    for name in names:
        is_csv = posixpath.splitext(name)[1].lower() in _CSV_EXT
        probes[name] = _probe(storage, f"{folder}/{name}", decode_utf8=is_csv)
    manifest = register_files(storage, period, [(n, p.sha256, p.size) for n, p in probes.items()], now=now)
    order = sorted(names, key=lambda n: manifest[(n, probes[n].sha256)].first_seen_order)

    # Files the probe read whole are parsed ahead; in a big period worker processes parse them and
    # the medium-sized ones too (bulk exports), while this process types. Big files stream here.
    whole = sum(1 for n in order if probes[n].size <= len(probes[n].head))
    workers = _workers() if whole >= POOL_MIN_FILES else 1
    limit = POOL_MAX_FILE_BYTES if workers > 1 else SNIFF_BYTES
    small = [
        _SmallFile(n, f"{folder}/{n}", probes[n], manifest[(n, probes[n].sha256)].first_seen_order)
        for n in order
        if probes[n].size <= len(probes[n].head) or probes[n].size <= limit
    ]
    typer = _Typer(chunk_rows if workers == 1 else min(chunk_rows, OVERLAP_TYPE_ROWS))
    small_read: dict[str, _SmallRead] = {}
    outcomes = _read_small_files(storage, small, max_uncompressed_bytes, chunk_rows, workers)
    try:
        for f, outcome in outcomes:
            small_read[f.name] = _absorb(f, outcome, typer)
    finally:
        outcomes.close()

    file_errors: list[dict] = []
    files: list[FileRecord] = []
    for name in order:
        probe = probes[name]
        entry = manifest[(name, probe.sha256)]
        done = small_read.get(name)
        source = (
            _replay(_Outcome([], done.rejected, done.failed))
            if done is not None
            else _read_one(storage, f"{folder}/{name}", name, probe, max_uncompressed_bytes, chunk_rows)
        )
        pending: list[pd.DataFrame | _RawRows] = []
        typed: list[pd.DataFrame] = []
        cell_errors: list[pd.DataFrame] = []
        notes: list[dict] = list(done.notes) if done is not None else []
        status, rows_read = "read", done.rows_read if done is not None else 0
        try:
            for block, block_notes in source:
                notes.extend(block_notes)
                if not len(block):
                    continue
                _set_provenance(block, name, probe.sha256, entry.first_seen_order)
                rows_read += len(block)
                pending.append(block)
                # A big file is typed as it streams; its raw text is never held whole.
                if sum(len(b) for b in pending) >= chunk_rows:
                    t, e = typer.type_now(pending)
                    typed.extend(t)
                    cell_errors.extend(e)
                    pending = []
        except FileRejected as rej:
            status, rows_read, pending, typed, cell_errors = "unreadable", 0, [], [], []
            notes = [_file_error(name, rej.code, rej.reason_id, rej.reason_en), *rej.notes]
        except Exception as exc:  # an odd file (or a reader bug) must not stop the other companies
            status, rows_read, pending, typed, cell_errors = "unreadable", 0, [], [], []
            detail = exc.detail if isinstance(exc, _ReadFailed) else type(exc).__name__
            rej = _rejected("read_failed", name, detail=detail)
            notes = [_file_error(name, rej.code, rej.reason_id, rej.reason_en)]
        typer.add_typed(typed, cell_errors)
        typer.add(pending)
        if status == "read" and rows_read == 0:
            notes.append(
                _file_error(
                    name,
                    "header_only",
                    f"Berkas '{name}' hanya berisi judul kolom tanpa baris data. Isi data perusahaan di "
                    "bawah judul kolom lalu kirim ulang.",
                    f"File '{name}' has a header but no data rows. Fill in the rows and send it again.",
                    "warning",
                )
            )
        file_errors.extend(notes)
        files.append(
            FileRecord(
                file=name,
                sha256=probe.sha256,
                size_bytes=probe.size,
                first_seen_order=entry.first_seen_order,
                first_seen_at=entry.first_seen_at,
                format=_format_of(name, probe.head),
                status=status,
                rows_read=rows_read,
            )
        )
    typer.flush()
    rows = _concat_rows(typer.typed)
    # Reading order: manifest order, then sheets and rows as they appear in each file.
    if not rows["file_order"].is_monotonic_increasing:
        rows = rows.sort_values("file_order", kind="stable", ignore_index=True)
    cells = [c for c in typer.errors if len(c)]
    cell_errors_df = (
        pd.concat(cells, ignore_index=True)
        if cells
        else pd.DataFrame({c: pd.Series([], dtype="str") for c in CELL_ERROR_COLUMNS})
    )
    if len(cell_errors_df):
        # By file in manifest order (within a file, as typed): the same whichever process typed what.
        first_seen = {f.file: f.first_seen_order for f in files}
        rank = cell_errors_df["source_file"].astype("str").map(first_seen).to_numpy(dtype="int64")
        cell_errors_df = cell_errors_df.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
    cell_errors_df["source_row"] = cell_errors_df["source_row"].astype("int64")
    for c in CELL_ERROR_COLUMNS:
        if c != "source_row":
            cell_errors_df[c] = cell_errors_df[c].astype("str")
    ferr = pd.DataFrame(file_errors, columns=FILE_ERROR_COLUMNS).astype("str")
    return ReadResult(rows, cell_errors_df[CELL_ERROR_COLUMNS], ferr, files)


def read_bytes_as_period(files: dict[str, bytes], period: str = "2025-08") -> ReadResult:
    """Read in-memory files as if they were a period folder (for tests and previews)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        storage = Storage(d)
        for name, data in files.items():
            storage.write_bytes(f"{SUBMISSIONS_DIR}/{period}/{name}", data)
        return read_period(storage, period)


__all__ = [
    "FileRecord",
    "ReadResult",
    "neutralise",
    "read_period",
    "match_header",
]
