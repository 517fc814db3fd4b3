"""Pyarrow schema of the confidential company reports of a period, kept in one Parquet.

``processed/bulletins/YYYY-MM/companies/reports.parquet``: one row per company, in the order of the
period's company indicators. One HTML file per company beside it only for small periods
(tasks/documents.py).
"""

from __future__ import annotations

import pyarrow as pa

from schemas.fields import Field, pa_schema

COMPANY_REPORTS_SCHEMA_NAME = "company_reports"
SCHEMA_VERSION = "1.0"

COMPANY_REPORT_FIELDS: tuple[Field, ...] = (
    Field("nib", "string", "NIB of the company the report is for (and only for).", nullable=False),
    Field("html", "string", "The confidential report as a self-contained HTML page (CSS inline, autoescaped), "
          "as attached to the company's e-mail.", nullable=False),
)  # fmt: skip


def company_reports_schema() -> pa.Schema:
    return pa_schema(
        COMPANY_REPORT_FIELDS,
        COMPANY_REPORTS_SCHEMA_NAME,
        SCHEMA_VERSION,
        "The confidential report of every company of one period: companies/reports.parquet in "
        "processed/bulletins/YYYY-MM/. Language and release date are in the file metadata.",
    )
