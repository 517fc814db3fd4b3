"""Receipts: one per company (NIB) and one per file that could not be linked to a company.

``processed/receipts/period=YYYY-MM/<nib>.html`` and ``<nib>.txt`` say what was accepted, what was
rejected and how to fix it, and which flags to check. Rows without a valid NIB and unreadable files
get ``berkas-<safe name>-<sha8>.html/.txt``. HTML is rendered with autoescape on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from schemas.codes import kaltim_kabkota
from schemas.submission import field as spec
from tasks.file_batch import write_files
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


def receipt_contexts(outcome: Outcome, file_sha: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Receipt name -> template context, for every company and every unlinked file."""
    kab = kaltim_kabkota()
    ctx: dict[str, dict[str, Any]] = {}

    def get(key: str, title: str, nib: str | None, name: str | None) -> dict[str, Any]:
        if key not in ctx:
            ctx[key] = {"title": title, "nib": nib, "company_name": name, "accepted": [], "rejected": [],
                        "flags": [], "notices": [], "files": set()}  # fmt: skip
        return ctx[key]

    for r in outcome.accepted.itertuples(index=False):
        c = get(r.nib, r.company_name, r.nib, r.company_name)
        c["files"].add(r.source_file)
        c["accepted"].append({
            "file": r.source_file, "row": int(r.source_row), "kbli": r.kbli_code,
            "kabkota": f"{r.kabkota_code} {kab.get(r.kabkota_code, '')}".strip(),
            "net_sales": _rupiah(r.net_sales), "workers": _num(r.workers_avg_total),
        })  # fmt: skip
    for r in outcome.soft.itertuples(index=False):
        c = ctx.get(str(r.nib))
        if c is not None:
            c["flags"].append({"file": r.source_file, "row": int(r.source_row), "column": _label(r.column),
                               "reason": r.reason_id, "reason_en": r.reason_en})  # fmt: skip

    q = outcome.quarantine_rows
    reasons = outcome.reasons
    for r in q.itertuples(index=False):
        nib = None if pd.isna(r.nib) else str(r.nib)
        if r.kind == "row" and nib and NIB_RE.match(nib):
            key, title, name = (
                nib,
                (r.company_name if isinstance(r.company_name, str) else nib),
                r.company_name,
            )
        else:
            sha = file_sha.get(r.source_file) or (r.file_sha256 if isinstance(r.file_sha256, str) else None)
            key, title, name, nib = safe_name(r.source_file, sha), f"Berkas {r.source_file}", None, None
        c = get(key, title, nib, name if isinstance(name, str) else None)
        c["files"].add(r.source_file)
        if r.kind == "file":
            sel = reasons[(reasons["kind"] == "file") & (reasons["source_file"] == r.source_file)]
        else:
            sel = reasons[(reasons["kind"] == "row") & (reasons["source_file"] == r.source_file)
                          & (reasons["source_row"] == r.source_row)]  # fmt: skip
        c["rejected"].append({
            "file": r.source_file,
            "row": None if pd.isna(r.source_row) else int(r.source_row),
            "reasons": [{"column": _label(x.column) if x.column else "", "reason": x.reason_id,
                         "reason_en": x.reason_en} for x in sel.itertuples(index=False)],
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


def _render(env: Any, common: dict[str, Any], items: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    html_t = env.get_template("receipt.html.j2")
    txt_t = env.get_template("receipt.txt.j2")
    out: dict[str, str] = {}
    for key, c in items:
        out[f"{key}.html"] = html_t.render(**common, **c)
        out[f"{key}.txt"] = txt_t.render(**common, **c)
    return out


def render_receipts(outcome: Outcome, file_sha: dict[str, str]) -> dict[str, str]:
    """``{file name: text}`` for every receipt (``<key>.html`` and ``<key>.txt``)."""
    common = {"period": outcome.period, "period_label": period_label(outcome.period)}
    return _render(_env(), common, sorted(receipt_contexts(outcome, file_sha).items()))


def render_batch(job: tuple[Storage, str, dict[str, Any]], items: list[tuple[str, dict[str, Any]]]) -> int:
    """Render one batch of receipts and write them into the folder being built; returns how many files."""
    storage, folder, common = job
    texts = _render(_env(), common, items)
    write_files(storage, folder, texts)
    return len(texts)


def write_receipts(
    storage: Storage, outcome: Outcome, file_sha: dict[str, str], workers: int = 1
) -> dict[str, Any]:
    """Replace ``processed/receipts/period=YYYY-MM/`` with this run's receipts; returns the folder and count.

    Rendered in batches (on ``workers`` processes when there are many), so only one batch of texts is
    in memory; the folder is swapped in once and the files inside need no fsync of their own.
    """
    from tasks.process_pool import map_batches

    rel = f"{RECEIPTS_DATASET}/period={outcome.period}"
    items = sorted(receipt_contexts(outcome, file_sha).items())
    common = {"period": outcome.period, "period_label": period_label(outcome.period)}
    batches = [items[i : i + RECEIPT_BATCH] for i in range(0, len(items), RECEIPT_BATCH)]
    use = workers if len(items) >= POOL_MIN_RECEIPTS else 1
    n = 0

    def build(tmp: str) -> None:
        nonlocal n
        n = sum(map_batches("tasks.receipts:render_batch", (storage, tmp, common), batches, use))

    storage.replace_dir(rel, build)
    return {"folder": storage.url(rel) + "/", "files": n}
