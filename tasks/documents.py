"""Per-company documents of a period (receipts, company reports): where they are kept and how to get one.

Every document is kept in one Parquet per period and kind (``receipts.parquet`` beside the receipts,
``companies/reports.parquet`` for the reports): the delivery and ``produktivitas documents`` read it.
A period of up to ``STORE_MIN_DOCUMENTS`` documents also gets one HTML file per document beside it, to
open in a browser. A national month does not: 2 x 10^5 small files cost more than all the rendering
(creating them, and deleting them again on a re-run; measured in benchmarks/README.md), and nobody
browses a folder of 10^5 reports. The ``company_documents`` setting forces either layout.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from tasks.storage import Storage

LAYOUTS = ("auto", "files", "store")
STORE_MIN_DOCUMENTS = 5_000  # from here on, "auto" keeps the documents in the Parquet only


def document_layout(setting: str, documents: int) -> str:
    """``files`` (Parquet + one HTML per document) or ``store`` (the Parquet only) for a period."""
    if setting not in LAYOUTS:
        raise ValueError(
            f"company_documents must be one of {', '.join(LAYOUTS)}, not {setting!r}; "
            "set it in produktivitas.toml or PRODUKTIVITAS_COMPANY_DOCUMENTS."
        )
    if setting == "auto":
        return "store" if documents >= STORE_MIN_DOCUMENTS else "files"
    return setting


def pages_table(pages: Mapping[str, str], schema: pa.Schema, key: str) -> pa.Table:
    """``{key: html}`` as rows of a document Parquet (built by the worker that rendered them: 20 MB of
    HTML a batch travels back as Arrow buffers, not as 2,000 Python strings to convert again)."""
    return pa.Table.from_pydict({key: list(pages), "html": list(pages.values())}, schema=schema)


class DocumentWriter:
    """Streams batches of rows into one Parquet (one row group per batch), in the order given."""

    def __init__(self, storage: Storage, rel: str, schema: pa.Schema) -> None:
        self._fh = storage.open(rel, "wb")
        # Every page and key is distinct: a dictionary would be built for 1 GB of HTML and thrown away.
        self._writer = pq.ParquetWriter(self._fh, schema, compression="zstd", use_dictionary=False)
        self._metadata = schema.metadata
        self.count = 0

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table.replace_schema_metadata(self._metadata))
        self.count += table.num_rows

    def close(self) -> None:
        self._writer.close()
        self._fh.close()

    def __enter__(self) -> DocumentWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_documents(storage: Storage, rel: str, key: str, batch_size: int = 2_000) -> Iterator[dict[str, str]]:
    """``{key: html}`` of a document Parquet, one batch at a time (a national month's is ~1 GB of HTML)."""
    with storage.open(rel, "rb") as fh:
        for batch in pq.ParquetFile(fh).iter_batches(batch_size=batch_size, columns=[key, "html"]):
            keys, html = batch.column(0).to_pylist(), batch.column(1).to_pylist()
            yield dict(zip(keys, html, strict=True))


def read_document(storage: Storage, rel: str, key: str, value: str, old_file: str = "") -> str | None:
    """One document's HTML from a document Parquet, or None when it has none under that key.

    A Parquet written before it held the HTML (receipts.parquet 1.0), or a period without one, falls
    back to ``old_file``, the HTML file of that run, when it exists.
    """
    table = None
    if storage.exists(rel):
        with storage.open(rel, "rb") as fh:
            if "html" in pq.read_schema(fh).names:
                fh.seek(0)
                table = pq.read_table(fh, columns=[key, "html"], filters=[(key, "=", value)])
    if table is not None and table.num_rows:
        return table.column("html")[0].as_py()
    return storage.read_text(old_file) if old_file and storage.exists(old_file) else None


# File names of a company's documents written out: the report's is also its e-mail attachment's.
REPORT_NAME = "laporan-{key}-{period}.html"
RECEIPT_NAME = "tanda-terima-{key}-{period}.html"


def _write_local(path: str, html: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(html)


def export_company(storage: Storage, period: str, nib: str, out_dir: str) -> list[str]:
    """Write one company's report and receipt of a period into a local folder; the paths written."""
    import os

    from tasks.company_report import read_company_report
    from tasks.receipts import read_receipt

    written = []
    for name, html in (
        (REPORT_NAME, read_company_report(storage, period, nib)),
        (RECEIPT_NAME, read_receipt(storage, period, nib)),
    ):
        if html is not None:
            os.makedirs(out_dir, exist_ok=True)
            path = os.path.join(out_dir, name.format(key=nib, period=period))
            _write_local(path, html)
            written.append(path)
    return written


def export_period(storage: Storage, period: str, out_dir: str) -> dict[str, int]:
    """Write every report and receipt of a period under ``laporan/`` and ``tanda-terima/``; folder -> count."""
    import os

    from tasks.company_report import REPORTS_FILE, company_reports_dir
    from tasks.receipts import receipts_rel

    counts = {}
    for rel, key, sub, name in (
        (f"{company_reports_dir(period)}/{REPORTS_FILE}", "nib", "laporan", REPORT_NAME),
        (receipts_rel(period), "receipt", "tanda-terima", RECEIPT_NAME),
    ):
        if not storage.exists(rel):
            continue
        folder = os.path.join(out_dir, sub)
        os.makedirs(folder, exist_ok=True)
        counts[folder] = 0
        for pages in iter_documents(storage, rel, key):
            for k, html in pages.items():
                _write_local(os.path.join(folder, name.format(key=k, period=period)), html)
            counts[folder] += len(pages)
    return counts
