"""The submissions stage: company files for one month -> validated, accepted rows + quarantine + receipts.

read (manifest order) -> validate (GX suite + masks from the field spec) -> resolve resubmissions ->
write accepted Parquet, quarantine (Parquet, CSV, summary), one receipt per company, GX Data Docs.
A bad file or row never stops the others; a month without files is normal (empty outputs, a notice).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import INPUTS, NO_CACHE, TASK_SOURCE
from prefect.utilities.annotations import opaque

from flows.settings import Settings
from tasks import cache_keys as ck
from tasks import quarantine as qt
from tasks import receipts as rc
from tasks import submission_validate as sv
from tasks.logs import get_logger
from tasks.parquet_io import read_frame
from tasks.storage import Storage
from tasks.submission_readers import ReadResult, read_period

DATA_DOCS_REL = "processed/data_docs/submissions"
TABLE_ROWS_MAX = 200


@task(name="submissions-read", cache_policy=NO_CACHE)
def read_task(storage_root: str, period: str) -> ReadResult:
    return read_period(Storage(storage_root), period)


def previous_accepted(storage_root: str, period: str) -> pd.DataFrame:
    """VA per worker of each company's latest accepted period before ``period`` (for the jump flag)."""
    storage = Storage(storage_root)
    frames = []
    for name in storage.listdir(qt.ACCEPTED_DATASET):
        if not name.startswith("period=") or name[len("period=") :] >= period:
            continue
        for f in storage.walk_files(f"{qt.ACCEPTED_DATASET}/{name}", "*.parquet"):
            frames.append(read_frame(storage, f))
    if not frames:
        return sv.previous_va_per_worker(pd.DataFrame())
    return sv.previous_va_per_worker(pd.concat(frames, ignore_index=True))


def read_umk(path: str) -> pd.DataFrame | None:
    if not path:
        return None
    df = pd.read_csv(path, dtype={"kabkota_code": "str"})
    missing = {"kabkota_code", "year", "umk_idr_per_month"} - set(df.columns)
    if missing:
        raise ValueError(
            f"UMK table {path} lacks columns {sorted(missing)}; it needs kabkota_code, year, umk_idr_per_month"
        )
    return df


def resolve_and_assemble(result: sv.ValidationResult, file_errors: pd.DataFrame, period: str) -> qt.Outcome:
    """Resubmissions resolved (newest wins), then accepted rows and quarantine records assembled."""
    superseded = sv.resolve_duplicates(result.rows, result.rejected_ids)
    parts = [p for p in (result.failures, superseded) if len(p)]
    failures = pd.concat(parts, ignore_index=True) if parts else result.failures
    return qt.assemble(result.rows, failures, file_errors, period)


@task(name="submissions-validate", cache_policy=NO_CACHE)
def validate_task(
    storage_root: str,
    read: ReadResult,
    period: str,
    hours_bounds_week: dict[str, tuple[float, float]] | None,
    umk_path: str,
) -> tuple[sv.ValidationResult, qt.Outcome]:
    """Pandas masks from the field spec decide every row; resubmissions resolved; outcome assembled.

    One task for what were five (previous period, UMK table, masks, duplicates, assembly): each is
    milliseconds of work and a task run costs more in bookkeeping. The GX cross-check and Data Docs
    run in :func:`gx_task`.
    """
    previous = previous_accepted(storage_root, period)
    umk = read_umk(umk_path)
    if len(read.rows):
        result = sv.validate_rows(
            read.rows, period, cell_errors=read.cell_errors, hours_bounds_week=hours_bounds_week,
            umk_table=umk, previous=previous, use_gx=False,
        )  # fmt: skip
    else:
        result = sv.validate_rows(read.rows, period, use_gx=False)
    return result, resolve_and_assemble(result, read.file_errors, period)


GX_MODULES = ("tasks.submission_validate", "flows.stage_submissions")
GX_DISTRIBUTIONS = ("great_expectations", "pandas", "numpy")


@task(
    name="submissions-gx",
    # The GX run's results and Data Docs are a function of the frame it sees (the tested columns),
    # the checks, the period, our code and the library versions: keyed on their digests, a re-run of
    # an unchanged month reuses them without importing Great Expectations (~5 s). Any changed value,
    # rule or version runs GX again. The pandas masks in validate_task always run and decide rows.
    cache_policy=(INPUTS - "gdf" - "checks") + TASK_SOURCE,
    persist_result=True,
)
def gx_task(
    gdf: pd.DataFrame, checks: list[sv.Check], period: str, inputs_sha256: str, code_sha256: str
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    with tempfile.TemporaryDirectory(prefix="produktivitas-gx-") as d:
        # GX's file context lives in a temporary folder: nothing of gx/ reaches the repository.
        return sv.run_gx_frame(gdf, checks, period=period, docs_dir=Path(d))


@task(name="submissions-write", cache_policy=NO_CACHE)
def write_task(
    storage_root: str, outcome: qt.Outcome, file_sha: dict[str, str], docs: dict[str, bytes], meta: dict
) -> list[str]:
    storage = Storage(storage_root)
    outputs = [qt.write_accepted(storage, outcome, meta)]
    outputs += qt.write_quarantine(storage, outcome, meta)
    if docs:
        rel = f"{DATA_DOCS_REL}/period={outcome.period}"

        def build(tmp: str) -> None:
            for name, data in docs.items():
                storage.write_bytes(f"{tmp}/{name}", data)

        storage.replace_dir(rel, build)
        outputs.append(storage.url(f"{rel}/index.html"))
    return outputs


@task(name="submissions-receipts", cache_policy=NO_CACHE)
def receipts_task(
    storage_root: str, outcome: qt.Outcome, file_sha: dict[str, str], workers: int, layout: str = "auto"
) -> dict:
    return rc.write_receipts(Storage(storage_root), outcome, file_sha, workers, layout)


def _hours_bounds(settings: Settings) -> dict[str, tuple[float, float]] | None:
    raw = settings.extra.get("hours_bounds_per_week")
    if not raw:
        return None
    return {str(k): (float(v[0]), float(v[1])) for k, v in dict(raw).items()}


def _reason_table(outcome: qt.Outcome) -> list[dict[str, Any]]:
    r = outcome.reasons.head(TABLE_ROWS_MAX)
    return [
        {
            "file": x.source_file,
            "row": "" if pd.isna(x.source_row) else int(x.source_row),
            "column": x.column or "",
            "reason_code": x.reason_code,
            "reason": x.reason_id,
        }
        for x in r.itertuples(index=False)
    ]


def _notices(outcome: qt.Outcome, n_files: int, period: str) -> list[str]:
    c = outcome.counts
    if n_files == 0:
        return [
            f"Tidak ada kiriman perusahaan untuk periode {period} (folder raw/submissions/{period}/ kosong)."
        ]
    notes = [
        f"Kiriman perusahaan {period}: {c['rows_read']} baris dari {n_files} berkas dibaca; {c['accepted']} "
        f"diterima ({c['companies']} perusahaan), {c['quarantined']} dikarantina, {c['files_unreadable']} "
        "berkas tidak terbaca."
    ]
    if c["quarantined"] or c["files_unreadable"]:
        top = outcome.reasons["reason_code"].value_counts().head(5)
        detail = ", ".join(f"{k} ({v})" for k, v in top.items())
        notes.append(
            f"{c['quarantined']} baris dan {c['files_unreadable']} berkas dikarantina: {detail}. Lihat "
            f"processed/quarantine/period={period}/summary.html; tanda terima per perusahaan ada di "
            f"processed/receipts/period={period}/."
        )
    if c["flagged"]:
        notes.append(f"{c['flagged']} baris diterima dengan tanda untuk diperiksa (lihat kolom flags).")
    return notes


@flow(name="submissions-stage", flow_run_name="submissions-{period}")
def submissions_stage(settings: Settings, storage_root: str, period: str, run_id: str) -> dict[str, Any]:
    """Read, validate and file one month of company submissions (stage interface: CONTRIBUTING.md)."""
    log = get_logger()
    read = read_task(storage_root, period)
    n_files = len(read.files)
    unreadable = sum(1 for f in read.files if f.status == "unreadable")
    # opaque(): Prefect would otherwise walk every file record, row dict and map entry of these
    # arguments, twice per task (inputs and dependencies): ~5 s of a national month on one core.
    result, outcome = validate_task(
        storage_root, opaque(read), period, _hours_bounds(settings), settings.umk_table
    )
    if len(result.rows):
        gdf = sv.gx_frame(result)
        digest = sv.gx_digest(gdf, result.checks, period)
        code = ck.code_digest(GX_MODULES, distributions=GX_DISTRIBUTIONS)
        state = gx_task(gdf, result.checks, period, digest, code, return_state=True)
        result = sv.with_gx(result, *state.result())
        if state.name == "Cached":
            log.info(
                "submissions %s: GX results and Data Docs reused (same validated values, rules and code)",
                period,
            )
    meta = {
        "run_id": run_id,
        "period": period,
        "rows_read": outcome.rows_read,
        "files": [{"file": f.file, "sha256": f.sha256, "status": f.status, "rows_read": f.rows_read}
                  for f in read.files],
    }  # fmt: skip
    file_sha = {f.file: f.sha256 for f in read.files}
    # The Parquet files are written on a thread of the stage's task runner while the receipts' contexts
    # are built here: both need only the outcome, and the writing is mostly outside the GIL.
    written = write_task.submit(
        storage_root, opaque(outcome), opaque(file_sha), opaque(result.docs_files), opaque(meta)
    )
    receipts = receipts_task(
        storage_root,
        opaque(outcome),
        opaque(file_sha),
        settings.workers_effective,
        settings.company_documents,
    )
    outputs = [*written.result(), receipts["folder"]]
    counts = {
        "files": n_files,
        **outcome.counts,
        "receipts": receipts["receipts"],
        "receipt_files": receipts["files"],
    }
    log.info("submissions %s: %s", period, counts)
    summary: dict[str, Any] = {
        "counts": counts,
        "outputs": outputs,
        "notices": _notices(outcome, n_files, period),
        "diagnostics": list(result.diagnostics),
        "tables": {"quarantine-reasons": _reason_table(outcome)} if len(outcome.reasons) else {},
    }
    if n_files and unreadable == n_files:
        summary["fatal"] = (
            f"Tidak satu pun dari {n_files} berkas kiriman {period} dapat dibaca; lihat "
            f"processed/quarantine/period={period}/summary.html."
        )
    return summary
