"""Receipts: one per company (NIB) and one per file that could not be linked to a company.

A receipt says what was accepted, what was rejected and how to fix it, and which flags to check.
``processed/receipts/period=YYYY-MM/receipts.parquet`` holds every receipt of the period as plain text
(for e-mail and the company report) and HTML; a period small enough to browse also gets
``<nib>.html`` files beside it (tasks/documents.py). Rows without a valid NIB and unreadable files get
``berkas-<safe name>-<sha8>``. HTML is rendered with autoescape on.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas.codes import kaltim_kabkota
from schemas.submission import field as spec
from schemas.submission_outputs import receipt_texts_schema
from tasks.file_batch import write_files
from tasks.process_pool import keep_workers, map_batches, prestart
from tasks.quarantine import Outcome
from tasks.storage import Storage

RECEIPTS_DATASET = "processed/receipts"
TEMPLATES = Path(__file__).resolve().parents[1] / "reports" / "templates"
NIB_RE = re.compile(r"^\d{13}$")
SYNTHETIC_MARK = "SINTETIS"
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
             "Oktober", "November", "Desember")  # fmt: skip


def period_label(period: str) -> str:
    """ "2025-08" -> "Agustus 2025"."""
    year, month = period.split("-")
    return f"{MONTHS_ID[int(month) - 1]} {year}"


def safe_name(file: str, sha256: str | None) -> str:
    """A receipt file name from a received file name: ASCII letters, digits, ._- only, plus a hash."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", file).strip("._-")[:60] or "berkas"
    return f"berkas-{stem}-{(sha256 or '')[:8] or 'nohash'}"


def _rupiah(v: Any) -> str:
    if v is None or pd.isna(v):
        return "-"
    return "Rp" + f"{int(v):,}".replace(",", ".")


def _num(v: Any) -> str:
    if v is None or pd.isna(v):
        return "-"
    x = float(v)
    return (
        f"{int(x):,}".replace(",", ".")
        if x.is_integer()
        else f"{x:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
    )


def _env() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _label(col: str) -> str:
    try:
        return spec(col).label_id
    except KeyError:
        return col or "-"


def _cols(df: pd.DataFrame, *names: str) -> list[list[Any]]:
    """Columns as Python lists (NA as None): iterating Arrow-backed rows one by one costs ~20x more."""
    return [df[n].astype(object).where(df[n].notna(), None).tolist() for n in names]


def receipt_contexts(outcome: Outcome, file_sha: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Receipt name -> template context, for every company and every unlinked file."""
    # 10^5 small dicts and lists in a row set off the cyclic collector again and again (half the time
    # here); none of them is part of a cycle.
    gc.disable()
    try:
        return _receipt_contexts(outcome, file_sha)
    finally:
        gc.enable()


def _receipt_contexts(outcome: Outcome, file_sha: dict[str, str]) -> dict[str, dict[str, Any]]:
    kab = kaltim_kabkota()
    ctx: dict[str, dict[str, Any]] = {}

    def get(key: str, title: str, nib: str | None, name: str | None) -> dict[str, Any]:
        c = ctx.get(key)
        if c is None:
            c = ctx[key] = {"title": title, "nib": nib, "company_name": name, "accepted": [], "rejected": [],
                            "flags": [], "notices": [], "files": set()}  # fmt: skip
        return c

    acc = outcome.accepted
    if len(acc):
        cols = _cols(acc, "nib", "company_name", "source_file", "source_row", "kbli_code", "kabkota_code",
                     "net_sales", "workers_avg_total")  # fmt: skip
        for nib, name, file, row, kbli, code, sales, workers in zip(*cols, strict=True):
            c = get(nib, name, nib, name)
            c["files"].add(file)
            c["accepted"].append({
                "file": file, "row": int(row), "kbli": kbli,
                "kabkota": f"{code} {kab.get(code, '')}".strip(),
                "net_sales": _rupiah(sales), "workers": _num(workers),
            })  # fmt: skip
    soft = outcome.soft
    if len(soft):
        for nib, file, row, column, rid, ren in zip(
            *_cols(soft, "nib", "source_file", "source_row", "column", "reason_id", "reason_en"), strict=True
        ):
            c = ctx.get(str(nib))
            if c is not None:
                c["flags"].append({"file": file, "row": int(row), "column": _label(column), "reason": rid,
                                   "reason_en": ren})  # fmt: skip

    # Reasons grouped once by (kind, file, row) instead of a filter of the whole table per quarantined row.
    grouped: dict[tuple[Any, ...], list[dict[str, str]]] = {}
    reasons = outcome.reasons
    if len(reasons):
        for kind, file, row, column, rid, ren in zip(
            *_cols(reasons, "kind", "source_file", "source_row", "column", "reason_id", "reason_en"),
            strict=True,
        ):
            key = (kind, file, None if kind == "file" else row)
            grouped.setdefault(key, []).append(
                {"column": _label(column) if column else "", "reason": rid, "reason_en": ren}
            )
    q = outcome.quarantine_rows
    if len(q):
        for nib, kind, file, row, name, fsha in zip(
            *_cols(q, "nib", "kind", "source_file", "source_row", "company_name", "file_sha256"), strict=True
        ):
            nib = None if nib is None else str(nib)
            if kind == "row" and nib and NIB_RE.match(nib):
                key, title = nib, (name if isinstance(name, str) else nib)
            else:
                sha = file_sha.get(file) or (fsha if isinstance(fsha, str) else None)
                key, title, name, nib = safe_name(file, sha), f"Berkas {file}", None, None
            c = get(key, title, nib, name if isinstance(name, str) else None)
            c["files"].add(file)
            c["rejected"].append({
                "file": file,
                "row": None if row is None else int(row),
                "reasons": list(grouped.get((kind, file, None if kind == "file" else row), [])),
            })  # fmt: skip
    by_file: dict[str, list[dict[str, Any]]] = {}
    for c in ctx.values():
        for f in c["files"]:
            by_file.setdefault(f, []).append(c)
    for n in outcome.notices.itertuples(index=False):
        for c in by_file.get(n.source_file, []):
            c["notices"].append({"file": n.source_file, "reason": n.reason_id, "reason_en": n.reason_en})
    for c in ctx.values():
        c["files"] = sorted(c["files"])
        c["synthetic"] = SYNTHETIC_MARK in f"{c['company_name'] or ''} {' '.join(c['files'])}"
    return ctx


RECEIPT_BATCH = 2_000  # receipts per batch: one batch of texts in memory at a time
POOL_MIN_RECEIPTS = 5_000  # below this, worker processes cost more to start than they save
RECEIPT_TARGET = "tasks.receipts:render_batch"

TEXTS_FILE = "receipts.parquet"  # every receipt, text and HTML, one row each (schemas/submission_outputs.py)


def _render(
    env: Any, common: dict[str, Any], items: list[tuple[str, dict[str, Any]]]
) -> tuple[dict[str, str], dict[str, str]]:
    """``({<key>.html: html}, {key: plain text})`` of a batch of receipts."""
    html_t = env.get_template("receipt.html.j2")
    txt_t = env.get_template("receipt.txt.j2")
    pages: dict[str, str] = {}
    texts: dict[str, str] = {}
    for key, c in items:
        pages[f"{key}.html"] = html_t.render(**common, **c)
        texts[key] = txt_t.render(**common, **c)
    return pages, texts


def render_receipts(outcome: Outcome, file_sha: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Every receipt: ``({<key>.html: html}, {key: plain text})``."""
    common = {"period": outcome.period, "period_label": period_label(outcome.period)}
    return _render(_env(), common, sorted(receipt_contexts(outcome, file_sha).items()))


@lru_cache(maxsize=1)
def _worker_env() -> Any:
    """One template environment per process: compiled once, not once per batch of 2,000 receipts."""
    return _env()


def render_batch(
    job: tuple[Storage, str, dict[str, Any], bool], items: list[tuple[str, dict[str, Any]]]
) -> pa.Table:
    """Render one batch of receipts: rows of ``receipts.parquet`` (built here, in the worker, so the
    HTML travels back as Arrow buffers), and the HTML files in the folder being built when asked."""
    storage, folder, common, files = job
    pages, texts = _render(_worker_env(), common, items)
    if files:
        write_files(storage, folder, pages)
    return texts_table(texts, pages)


def texts_table(texts: dict[str, str], pages: dict[str, str] | None = None) -> pa.Table:
    """The rows of ``receipts.parquet`` (sorted by receipt name); ``pages`` holds the ``<key>.html``."""
    keys = sorted(texts)
    pages = pages or {}
    return pa.Table.from_pydict(
        {
            "receipt": keys,
            "nib": [k if NIB_RE.match(k) else None for k in keys],
            "text": [texts[k] for k in keys],
            "html": [pages[f"{k}.html"] for k in keys],
        },
        schema=receipt_texts_schema(),
    )


def read_texts(storage: Storage, period: str, receipts: Collection[str] | None = None) -> dict[str, str]:
    """``{receipt: plain text}`` of a period (only ``receipts`` when given); empty when there are none."""
    rel = f"{RECEIPTS_DATASET}/period={period}/{TEXTS_FILE}"
    if not storage.exists(rel):
        return {}
    with storage.open(rel, "rb") as fh:
        table = pq.read_table(fh, columns=["receipt", "text"])
    if receipts is not None:  # filtered in Arrow before any text becomes a Python string
        table = table.filter(pc.is_in(table["receipt"], value_set=pa.array(list(receipts), pa.string())))
    keys, values = table.column("receipt").to_pylist(), table.column("text").to_pylist()
    return dict(zip(keys, values, strict=True))


def receipts_rel(period: str) -> str:
    return f"{RECEIPTS_DATASET}/period={period}/{TEXTS_FILE}"


def read_receipt(storage: Storage, period: str, key: str) -> str | None:
    """One receipt's HTML (a NIB or berkas-… name), from receipts.parquet or the HTML file of an older run."""
    from tasks.documents import read_document

    return read_document(
        storage, receipts_rel(period), "receipt", key, f"{RECEIPTS_DATASET}/period={period}/{key}.html"
    )


@keep_workers()
def write_receipts(
    storage: Storage, outcome: Outcome, file_sha: dict[str, str], workers: int = 1, layout: str = "auto"
) -> dict[str, Any]:
    """Replace ``processed/receipts/period=YYYY-MM/`` with this run's receipts; returns folder, count, layout.

    ``receipts.parquet`` holds every receipt (plain text and HTML); a period small enough to browse
    also gets ``<key>.html`` files beside it (``layout``, see tasks/documents.py). Rendered in batches
    (on ``workers`` processes when there are many), so only one batch of pages is in memory; the folder
    is swapped in once and the files inside need no fsync of their own.
    """
    from tasks.documents import DocumentWriter, document_layout

    rel = f"{RECEIPTS_DATASET}/period={outcome.period}"
    if workers > 1 and len(outcome.accepted) + len(outcome.quarantine_rows) >= POOL_MIN_RECEIPTS:
        prestart(workers, RECEIPT_TARGET)  # while this process builds the contexts
    items = sorted(receipt_contexts(outcome, file_sha).items())
    common = {"period": outcome.period, "period_label": period_label(outcome.period)}
    batches = [items[i : i + RECEIPT_BATCH] for i in range(0, len(items), RECEIPT_BATCH)]
    use = workers if len(items) >= POOL_MIN_RECEIPTS else 1
    chosen = document_layout(layout, len(items))
    count = 0

    def build(tmp: str) -> None:
        nonlocal count
        schema = texts_table({}).schema
        schema = schema.with_metadata({**(schema.metadata or {}), b"period": outcome.period.encode()})
        job = (storage, tmp, common, chosen == "files")
        # Receipts stream into the Parquet batch by batch (keys arrive sorted): a national month's
        # 10^5 are never all in memory.
        with DocumentWriter(storage, f"{tmp}/{TEXTS_FILE}", schema) as out:
            for table in map_batches(RECEIPT_TARGET, job, batches, use):
                out.write(table)
        count = out.count

    storage.replace_dir(rel, build)
    files = count + 1 if chosen == "files" else 1
    return {"folder": storage.url(rel) + "/", "files": files, "receipts": count, "layout": chosen}
