"""Pyarrow schemas of what the submissions stage writes: accepted rows and the quarantine.

Accepted rows = every submission field + KBLI section + PDRB group + where the row came from +
the soft flags validation raised (the row was kept, a person should look). The quarantine holds one
row per rejected data row or unreadable file (``rows``) and one row per reason (``reasons``).
"""

from __future__ import annotations

import pyarrow as pa

from schemas.fields import Field, pa_schema
from schemas.submission import PROVENANCE_FIELDS, SUBMISSION_FIELDS

ACCEPTED_SCHEMA_NAME = "submission_accepted"
QUARANTINE_ROWS_SCHEMA_NAME = "submission_quarantine_rows"
QUARANTINE_REASONS_SCHEMA_NAME = "submission_quarantine_reasons"
SCHEMA_VERSION = "1.0"

# Soft flags: the rule failed but the row is kept (METHOD.md §3.3). Names are the columns written.
SOFT_FLAG_FIELDS: tuple[Field, ...] = (
    Field("flag_negative_va", "bool", "Value added (net_sales + other_operating_income + chg_inventory_fg_wip "
          "- purchases) is below zero; kept, not rejected.", label_id="Nilai tambah negatif",
          label_en="Negative value added", nullable=False),
    Field("flag_hours_high", "bool", "Hours per worker above the sector's normal or normal-plus-overtime "
          "monthly bound (configurable; mining has a longer regime).", label_id="Jam kerja per pekerja tinggi",
          label_en="High hours per worker", nullable=False),
    Field("flag_below_umk", "bool", "Wages per PKWTT+PKWT employee below the configured UMK of the kab/kota "
          "and year; a plausibility flag, not a legal finding. False when no UMK table is configured.",
          label_id="Upah di bawah UMK", label_en="Wage below minimum wage", nullable=False),
    Field("flag_va_jump", "bool", "Value added per worker changed by more than 50% against the company's "
          "previous accepted period.", label_id="Lonjakan nilai tambah per pekerja",
          label_en="Jump in VA per worker", nullable=False),
    Field("flag_female_above_total", "bool", "workers_female is above workers_avg_total.",
          label_id="Pekerja perempuan melebihi total", label_en="Female workers above total", nullable=False),
    Field("flag_invalid_email", "bool", "contact_email is not a valid address; the receipt cannot be e-mailed.",
          label_id="Email tidak sah", label_en="Invalid e-mail", nullable=False),
    Field("flags", "string", "Reason codes of all soft flags on the row, ';'-separated (empty when none).",
          label_id="Tanda", label_en="Flags", nullable=False),
)  # fmt: skip

CLASSIFICATION_FIELDS: tuple[Field, ...] = (
    Field("kbli_section", "string", "KBLI 2020 section letter derived from the division of kbli_code.",
          label_id="Seksi KBLI", label_en="KBLI section", nullable=False),
    Field("pdrb_group", "string", "PDRB industry group (17 groups; M-N and R-U merged) of kbli_section.",
          label_id="Kelompok lapangan usaha PDRB", label_en="PDRB industry group", nullable=False),
)  # fmt: skip


def accepted_fields() -> tuple[Field, ...]:
    provenance = tuple(f for f in PROVENANCE_FIELDS if f.name != "file_order")
    return SUBMISSION_FIELDS + CLASSIFICATION_FIELDS + provenance + SOFT_FLAG_FIELDS


def accepted_schema() -> pa.Schema:
    return pa_schema(
        accepted_fields(),
        ACCEPTED_SCHEMA_NAME,
        SCHEMA_VERSION,
        "Accepted monthly company submissions (one row per company and period), with source file/row "
        "and the soft validation flags.",
    )


QUARANTINE_META_FIELDS: tuple[Field, ...] = (
    Field("kind", "string", "'row' for a rejected data row, 'file' for a file that could not be read.",
          nullable=False),
    Field("source_file", "string", "File name as received, relative to the period folder.", nullable=False),
    Field("source_sheet", "string", "Worksheet name for XLSX; null for CSV or a whole file."),
    Field("source_row", "int64", "Row number a person sees in the file (1-based); null for a whole file."),
    Field("file_sha256", "string", "SHA-256 of the raw file bytes."),
    Field("reason_codes", "string", "Reason codes, ';'-separated.", nullable=False),
    Field("columns", "string", "Columns the reasons concern, ';'-separated (empty for a whole file).",
          nullable=False),
    Field("reasons_id", "string", "What is wrong and what to do, in Indonesian (all reasons, joined).",
          nullable=False),
    Field("reasons_en", "string", "The same in English.", nullable=False),
)  # fmt: skip


def _nullable(f: Field) -> Field:
    # A quarantined row may lack any field; an unreadable file has none at all.
    return Field(f.name, f.dtype, f.description, f.unit, f.label_id, f.label_en, nullable=True, extra=f.extra)


def quarantine_rows_schema() -> pa.Schema:
    return pa_schema(
        QUARANTINE_META_FIELDS + tuple(_nullable(f) for f in SUBMISSION_FIELDS),
        QUARANTINE_ROWS_SCHEMA_NAME,
        SCHEMA_VERSION,
        "Rejected submission rows and unreadable files of one period, with every reason.",
    )


QUARANTINE_REASON_FIELDS: tuple[Field, ...] = (
    Field("kind", "string", "'row', 'file' or 'cell'.", nullable=False),
    Field("source_file", "string", "File name as received.", nullable=False),
    Field("source_sheet", "string", "Worksheet name for XLSX."),
    Field("source_row", "int64", "Row number a person sees in the file (1-based); null for a whole file."),
    Field("nib", "string", "NIB as written on the row (may be invalid)."),
    Field("column", "string", "Submission field the reason concerns (empty for a whole file).", nullable=False),
    Field("value", "string", "The offending value as text, neutralised against spreadsheet formulas."),
    Field("severity", "string", "'hard' rejects the row, 'soft' only flags it.", nullable=False),
    Field("rule_id", "string", "Rule that failed (e.g. SUB_WORKERS_SUM).", nullable=False),
    Field("reason_code", "string", "Stable reason code.", nullable=False),
    Field("reason_id", "string", "What is wrong and what to do, in Indonesian.", nullable=False),
    Field("reason_en", "string", "The same in English.", nullable=False),
)  # fmt: skip


def quarantine_reasons_schema() -> pa.Schema:
    return pa_schema(
        QUARANTINE_REASON_FIELDS,
        QUARANTINE_REASONS_SCHEMA_NAME,
        SCHEMA_VERSION,
        "Every reason a row or file of one period was quarantined, one row per reason.",
    )


RECEIPT_TEXTS_SCHEMA_NAME = "submission_receipt_texts"
RECEIPT_TEXTS_SCHEMA_VERSION = "1.1"  # 1.1: the html column (1.0 had the text only)

# Every receipt of a period in one Parquet: the delivery, the company report and
# ``produktivitas documents`` read it. The HTML files beside it exist only for periods small enough
# to browse (tasks/documents.py): a national month has 10^5 receipts, and every file costs a create
# (and on a re-run a delete) on the disk.
RECEIPT_TEXT_FIELDS: tuple[Field, ...] = (
    Field("receipt", "string", "Receipt name: the company's NIB, or berkas-<file>-<sha8> for a file not linked "
          "to a company; the HTML file of a small period is <receipt>.html beside this file.", nullable=False),
    Field("nib", "string", "NIB of the company; null for a file receipt."),
    Field("text", "string", "The receipt as plain text in Indonesian (e-mail bodies, the company report).",
          nullable=False),
    Field("html", "string", "The receipt as a self-contained HTML page (autoescaped), to open or to hand to the "
          "company (produktivitas documents).",
          nullable=False),
)  # fmt: skip


def receipt_texts_schema() -> pa.Schema:
    return pa_schema(
        RECEIPT_TEXT_FIELDS,
        RECEIPT_TEXTS_SCHEMA_NAME,
        RECEIPT_TEXTS_SCHEMA_VERSION,
        "Every receipt of one period (each company, each unlinked file) as plain text and HTML: "
        "receipts.parquet in processed/receipts/period=YYYY-MM/.",
    )
