"""The monthly company submission: one definition of every field (METHOD.md §3.2).

Readers, validation, the template workbook, receipts and the Parquet schema of accepted rows all
derive from :data:`SUBMISSION_FIELDS`. Money is integer rupiah per month, persons and hours are
decimals, codes are strings. ``required`` follows METHOD.md §3.2 for a *monthly* submission:
fixed-asset stocks are optional in months without a balance sheet, and
``purch_goods_for_resale`` is required only for KBLI section G (``extra["required_if_section"]``).

Pandas dtypes of rows read from a file (see :func:`pandas_dtype`): ``string`` -> ``str``,
``int64`` -> ``Int64``, ``float64`` -> ``Float64``, ``date`` -> ``datetime64[s]`` (missing -> NA/NaT).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pandas as pd
import pyarrow as pa

from schemas.codes import division_to_section, kaltim_kabkota
from schemas.fields import Field, pa_schema

SCHEMA_NAME = "submission"
SCHEMA_VERSION = "1.0"

# Rule ids name the field-level rule part B's validation enforces; they appear in quarantine reasons.
_MONEY = "IDR"
_NONNEG = 0.0


def _money(
    name: str, label_id: str, label_en: str, description: str, *, required: bool, signed: bool = False, **kw
) -> Field:
    return Field(
        name=name,
        dtype="int64",
        description=description + " Rupiah per month, whole rupiah.",
        unit=_MONEY,
        label_id=label_id,
        label_en=label_en,
        required=required,
        min_value=None if signed else _NONNEG,
        rule_id=f"SUB_{name.upper()}",
        **kw,
    )


def _persons(name: str, label_id: str, label_en: str, description: str, *, required: bool, **kw) -> Field:
    return Field(
        name=name,
        dtype="float64",
        description=description,
        unit="persons",
        label_id=label_id,
        label_en=label_en,
        required=required,
        min_value=_NONNEG,
        rule_id=f"SUB_{name.upper()}",
        **kw,
    )


SUBMISSION_FIELDS: tuple[Field, ...] = (
    Field(
        "nib",
        "string",
        "Nomor Induk Berusaha (business identification number from OSS), 13 digits, kept as text.",
        label_id="NIB",
        label_en="Business ID (NIB)",
        required=True,
        regex=r"^\d{13}$",
        rule_id="SUB_NIB",
    ),
    Field(
        "company_name",
        "string",
        "Registered company name as the company writes it.",
        label_id="Nama Perusahaan",
        label_en="Company name",
        required=True,
        rule_id="SUB_COMPANY_NAME",
    ),
    Field(
        "kbli_code",
        "string",
        "KBLI 2020 5-digit activity code of the main activity; its first 2 digits (division) must "
        "map to a KBLI section (schemas.codes.division_to_section).",
        label_id="Kode KBLI",
        label_en="KBLI code",
        required=True,
        regex=r"^\d{5}$",
        rule_id="SUB_KBLI_CODE",
        extra={"code_list": "KBLI 2020"},
    ),
    Field(
        "kabkota_code",
        "string",
        "BPS 4-digit code of the Kalimantan Timur regency/city where the establishment operates.",
        unit="BPS code",
        label_id="Kode Kabupaten/Kota",
        label_en="Regency/city code",
        required=True,
        allowed=tuple(sorted(kaltim_kabkota())),
        regex=r"^\d{4}$",
        rule_id="SUB_KABKOTA_CODE",
    ),
    Field(
        "contact_email",
        "string",
        "E-mail address that receives the receipt and the confidential feedback report.",
        label_id="Email Kontak",
        label_en="Contact e-mail",
        required=False,
        regex=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        rule_id="SUB_CONTACT_EMAIL",
    ),
    Field(
        "period",
        "string",
        "Reference month of the figures as YYYY-MM; a run covers one month.",
        label_id="Periode",
        label_en="Period",
        required=True,
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        rule_id="SUB_PERIOD",
    ),
    Field(
        "submitted_on",
        "date",
        "Date the company filled in the form (as stated by the company).",
        label_id="Tanggal Pengisian",
        label_en="Date filled in",
        required=False,
        rule_id="SUB_SUBMITTED_ON",
    ),
    _money(
        "net_sales",
        "Penjualan Bersih",
        "Net sales",
        "Sales of goods and services, excluding VAT.",
        required=True,
    ),
    _money(
        "other_operating_income",
        "Pendapatan Operasional Lainnya",
        "Other operating income",
        "Other operating receipts, excluding interest and dividends.",
        required=False,
    ),
    _money(
        "chg_inventory_fg_wip",
        "Perubahan Persediaan Barang Jadi dan Setengah Jadi",
        "Change in finished goods and work in progress",
        "Closing minus opening stock of finished goods and work in progress; may be negative.",
        required=False,
        signed=True,
    ),
    _money(
        "purch_raw_materials",
        "Pembelian Bahan Baku dan Penolong",
        "Purchases of raw and auxiliary materials",
        "Raw and auxiliary materials used.",
        required=True,
    ),
    _money(
        "purch_energy",
        "Pembelian Bahan Bakar, Listrik dan Gas",
        "Purchases of fuel, electricity and gas",
        "Fuel, electricity and gas.",
        required=True,
    ),
    _money(
        "purch_services",
        "Pembelian Jasa",
        "Purchases of services",
        "Rent of buildings and machines, subcontracting (makloon), repairs and other services.",
        required=True,
    ),
    _money(
        "purch_goods_for_resale",
        "Pembelian Barang untuk Dijual Kembali",
        "Purchases of goods for resale",
        "Goods bought for resale without transformation; required for trade (KBLI section G).",
        required=False,
        extra={"required_if_section": "G"},
    ),
    _money(
        "wages_salaries",
        "Upah dan Gaji",
        "Wages and salaries",
        "Gross wages and salaries including overtime, THR and bonuses.",
        required=True,
    ),
    _money(
        "employer_social_contrib",
        "Iuran Jaminan Sosial Pemberi Kerja",
        "Employer social contributions",
        "BPJS and other employer social contributions.",
        required=True,
    ),
    _money(
        "other_benefits",
        "Tunjangan Lainnya",
        "Other benefits",
        "Benefits in kind and other employee benefits.",
        required=False,
    ),
    _persons(
        "workers_avg_total",
        "Jumlah Tenaga Kerja",
        "Total workers (average)",
        "Average persons engaged over the month, including unpaid owners/family workers; must be > 0.",
        required=True,
        extra={"min_exclusive": "true"},
    ),
    _persons(
        "workers_pkwtt",
        "Pekerja PKWTT (Tetap)",
        "Permanent workers (PKWTT)",
        "Average workers on open-ended contracts (PKWTT, PP 35/2021).",
        required=True,
    ),
    _persons(
        "workers_pkwt",
        "Pekerja PKWT (Kontrak)",
        "Fixed-term workers (PKWT)",
        "Average workers on fixed-term contracts (PKWT, PP 35/2021).",
        required=True,
    ),
    _persons(
        "workers_outsourced",
        "Pekerja Alih Daya",
        "Outsourced workers",
        "Average outsourced (alih daya) workers working at the establishment.",
        required=True,
    ),
    _persons(
        "workers_unpaid",
        "Pekerja Tidak Dibayar",
        "Unpaid workers",
        "Average unpaid owners and family workers.",
        required=True,
    ),
    _persons(
        "workers_female",
        "Pekerja Perempuan",
        "Female workers",
        "Average female workers; at most workers_avg_total.",
        required=False,
    ),
    Field(
        "hours_normal",
        "float64",
        "Normal hours actually worked in the month by all workers together.",
        unit="hours",
        label_id="Jam Kerja Normal",
        label_en="Normal hours worked",
        required=True,
        min_value=_NONNEG,
        rule_id="SUB_HOURS_NORMAL",
    ),
    Field(
        "hours_overtime",
        "float64",
        "Overtime hours actually worked in the month by all workers together.",
        unit="hours",
        label_id="Jam Kerja Lembur",
        label_en="Overtime hours worked",
        required=True,
        min_value=_NONNEG,
        rule_id="SUB_HOURS_OVERTIME",
    ),
    _money(
        "fixed_assets_nbv_open",
        "Nilai Buku Aset Tetap Awal",
        "Fixed assets, opening net book value",
        "Net book value of fixed assets at the start of the month; optional in months without a "
        "balance sheet (may be carried forward).",
        required=False,
    ),
    _money(
        "fixed_assets_nbv_close",
        "Nilai Buku Aset Tetap Akhir",
        "Fixed assets, closing net book value",
        "Net book value of fixed assets at the end of the month; optional in months without a "
        "balance sheet (may be carried forward).",
        required=False,
    ),
    _money(
        "depreciation",
        "Penyusutan",
        "Depreciation",
        "Depreciation of fixed assets in the month.",
        required=True,
    ),
    _money(
        "capex",
        "Belanja Modal",
        "Capital expenditure",
        "Purchases of fixed assets in the month.",
        required=False,
    ),
)

# Where a row came from. Filled by the readers, never by the company.
PROVENANCE_FIELDS: tuple[Field, ...] = (
    Field("source_file", "string", "File name as received, relative to the period folder.", nullable=False),
    Field("source_sheet", "string", "Worksheet name for XLSX; null for CSV."),
    Field(
        "source_row",
        "int64",
        "Row number a person sees in the file (1-based, header rows included).",
        nullable=False,
    ),
    Field("file_sha256", "string", "SHA-256 of the raw file bytes.", nullable=False),
    Field(
        "file_order",
        "int64",
        "Order in which the office first received the file (manifest first_seen_order); the "
        "tie-breaker between resubmissions.",
        nullable=False,
    ),
)

# Spellings people use for headers, beyond name/label_id/label_en (normalised by normalise_header).
ALIASES: dict[str, tuple[str, ...]] = {
    "nib": ("nomor induk berusaha", "no nib", "nomor nib", "business id", "nib perusahaan"),
    "company_name": ("nama perusahaan", "perusahaan", "nama usaha", "nama badan usaha", "company"),
    "kbli_code": ("kbli", "kode kbli", "kbli 2020", "kode kbli 2020", "kode lapangan usaha"),
    "kabkota_code": (
        "kode kab kota",
        "kode kabkota",
        "kabupaten kota",
        "kab kota",
        "kode kabupaten kota",
        "kode wilayah",
        "regency city code",
    ),
    "contact_email": ("email", "e mail", "alamat email", "surel", "email perusahaan", "email pic"),
    "period": ("periode", "bulan", "periode laporan", "bulan laporan", "month", "reporting period"),
    "submitted_on": ("tanggal", "tanggal isi", "tanggal pengisian", "tanggal lapor", "date"),
    "net_sales": ("penjualan bersih", "penjualan", "omzet", "omset", "sales", "turnover", "penjualan neto"),
    "other_operating_income": ("pendapatan lain", "pendapatan lainnya", "pendapatan operasional lain"),
    "chg_inventory_fg_wip": (
        "perubahan persediaan",
        "perubahan stok",
        "perubahan persediaan barang jadi",
        "change in inventory",
    ),
    "purch_raw_materials": ("bahan baku", "pembelian bahan baku", "biaya bahan baku", "raw materials"),
    "purch_energy": ("energi", "biaya energi", "bahan bakar listrik gas", "bbm listrik gas", "energy"),
    "purch_services": ("jasa", "biaya jasa", "pembelian jasa jasa", "services"),
    "purch_goods_for_resale": (
        "barang dagangan",
        "pembelian barang dagangan",
        "harga pokok barang dagangan",
        "goods for resale",
    ),
    "wages_salaries": ("upah", "gaji", "upah gaji", "upah dan gaji", "wages", "wages and salaries"),
    "employer_social_contrib": ("iuran bpjs", "bpjs", "iuran jaminan sosial", "social contributions"),
    "other_benefits": ("tunjangan", "tunjangan lain", "natura", "benefits"),
    "workers_avg_total": (
        "jumlah tenaga kerja",
        "jumlah pekerja",
        "tenaga kerja",
        "total pekerja",
        "jumlah tenaga kerja rata rata",
        "rata rata tenaga kerja",
        "workers",
        "total workers",
    ),
    "workers_pkwtt": ("pkwtt", "pekerja tetap", "karyawan tetap", "permanent workers"),
    "workers_pkwt": ("pkwt", "pekerja kontrak", "karyawan kontrak", "contract workers"),
    "workers_outsourced": ("alih daya", "outsourcing", "pekerja outsourcing", "outsourced"),
    "workers_unpaid": ("pekerja keluarga", "tidak dibayar", "pekerja tak dibayar", "unpaid"),
    "workers_female": ("perempuan", "pekerja wanita", "tenaga kerja perempuan", "female"),
    "hours_normal": ("jam kerja", "jam normal", "jam kerja biasa", "normal hours", "hours worked"),
    "hours_overtime": ("jam lembur", "lembur", "overtime", "overtime hours"),
    "fixed_assets_nbv_open": ("aset tetap awal", "nilai aset tetap awal", "nbv awal"),
    "fixed_assets_nbv_close": ("aset tetap akhir", "nilai aset tetap akhir", "nbv akhir", "aset tetap"),
    "depreciation": ("penyusutan aset", "biaya penyusutan", "depresiasi"),
    "capex": ("investasi", "pembelian aset tetap", "belanja modal aset tetap", "capital expenditure"),
}

_FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in SUBMISSION_FIELDS}
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def field(name: str) -> Field:
    """The :class:`Field` called ``name`` (KeyError names the unknown field)."""
    try:
        return _FIELDS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown submission field {name!r}") from None


def field_names() -> list[str]:
    return [f.name for f in SUBMISSION_FIELDS]


def required_fields() -> list[str]:
    """Fields every submission must fill (conditional ones such as goods for resale excluded)."""
    return [f.name for f in SUBMISSION_FIELDS if f.required]


def money_fields() -> list[str]:
    return [f.name for f in SUBMISSION_FIELDS if f.unit == _MONEY]


def numeric_fields() -> list[str]:
    return [f.name for f in SUBMISSION_FIELDS if f.dtype in ("int64", "float64")]


def normalise_header(text: object) -> str:
    """Header text as compared: lowercase, diacritics and punctuation removed, single spaces."""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return _NON_ALNUM.sub(" ", s).strip()


@cache
def header_lookup() -> dict[str, str]:
    """Normalised header text -> field name, from name, label_id, label_en and :data:`ALIASES`.

    Exact spellings (name and labels) win over aliases when an alias of one field equals a label
    of another, so the template's own headers always map to their field.
    """
    out: dict[str, str] = {}
    for f in SUBMISSION_FIELDS:
        for alias in ALIASES.get(f.name, ()):
            key = normalise_header(alias)
            if key:
                out.setdefault(key, f.name)
    for f in SUBMISSION_FIELDS:
        for text in (f.name, f.name.replace("_", " "), f.label_id, f.label_en):
            key = normalise_header(text)
            if key:
                out[key] = f.name
    return out


def pandas_dtype(f: Field) -> str:
    """The pandas dtype of a field's column in frames the readers return."""
    return {"string": "str", "int64": "Int64", "float64": "Float64", "date": "datetime64[s]"}.get(
        f.dtype, "object"
    )


def empty_rows_frame() -> pd.DataFrame:
    """A zero-row frame with every submission and provenance column in its reader dtype."""
    cols = {f.name: pd.Series([], dtype=pandas_dtype(f)) for f in SUBMISSION_FIELDS + PROVENANCE_FIELDS}
    return pd.DataFrame(cols)


def kbli_section_of(code: pd.Series) -> pd.Series:
    """KBLI section letter for each 5-digit code via its 2-digit division; NA when invalid/missing."""
    s = code.astype("str")
    valid = s.str.fullmatch(r"\d{5}").fillna(False).astype(bool)
    section = s.str.slice(0, 2).map(division_to_section())
    return section.where(valid & code.notna()).astype("str")


def submission_pa_schema() -> pa.Schema:
    """Pyarrow schema of accepted submission rows: all submission fields plus provenance."""
    return pa_schema(
        SUBMISSION_FIELDS + PROVENANCE_FIELDS,
        SCHEMA_NAME,
        SCHEMA_VERSION,
        "Monthly company submissions (METHOD.md §3.2) with the file and row each came from.",
    )
