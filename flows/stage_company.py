"""The company stage: accepted submissions -> company indicators + benchmarks -> disclosure-safe aggregates.

Heavy work is partitioned by kab/kota, computed in one task on one machine and as one mapped task
per kab/kota code (a handful, never one per company) for a big period on Dask, then one task for
the aggregates and disclosure control over the whole period. Tasks are module-level functions with
plain arguments (the storage root as a string), so the stage gives the same rows with the default
thread pool or a Dask runner
(``company_stage.with_options(task_runner=DaskTaskRunner(...))``).

Settings used: ``umk_table``, ``deflator_table``, ``disclosure_p_percent``, ``disclosure_min_companies``;
optional TOML keys (in ``Settings.extra``) ``sector_pdrb_table`` (CSV: year, sector_code,
pdrb_adhk_billion_idr[, source]: Kaltim PDRB ADHK 2010 by lapangan usaha) and ``sector_employment_table``
(same layout with employed_persons; default: the BPS stage's Kaltim employment by sector) switch on the
provincial-by-sector benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE

from flows.settings import PROJECT_ROOT, Settings
from schemas.company import AGGREGATES_SCHEMA, COMPANY_INDICATORS_SCHEMA
from tasks import benchmarks as bm
from tasks.company_indicators import (
    HISTORY_COLUMNS,
    compute_company_indicators,
    load_deflator_table,
    load_umk_table,
    previous_month,
)
from tasks.disclosure import DisclosureRules, disclosure_aggregates
from tasks.logs import get_logger
from tasks.parquet_io import frame_to_table, read_frame, write_partition
from tasks.storage import Storage

SUBMISSIONS_DATASET = "processed/submissions"
COMPANY_DATASET = "processed/indicators/company"
AGGREGATES_DATASET = "processed/indicators/aggregates"
# The kab/kota partitions are computed in one task: a task per kab/kota re-reads the period's files,
# the history and the benchmark tables and costs a task run, which for a province's month (tens of
# companies) was nearly all of the stage's time, and on one machine's threads a national month's ten
# tasks took 5 s against ~1.6 s in one. Only on a Dask runner does a period of more than this many
# accepted rows get one task per kab/kota, for Dask to spread. The frames are the same either way.
SINGLE_TASK_MAX_ROWS = 20_000


def one_task(n_rows: int, task_runner: str) -> bool:
    """Whether the period's partitions are computed in one task (else one mapped task per kab/kota)."""
    return n_rows <= SINGLE_TASK_MAX_ROWS or task_runner != "dask"


KEMNAKER_REL = "raw/reference/kemnaker_productivity_by_sector_national_2022.csv"
PROVINCIAL_REL = "processed/indicators/provincial_productivity.parquet"
SECTOR_EMPLOYMENT_REL = "processed/bps/kaltim_employment_by_sector.parquet"


# --- reading ------------------------------------------------------------------------------------------
def _int64_to_pandas(table: pa.Table) -> pd.DataFrame:
    # int64 money stays exact (nullable Int64) instead of turning into float where a value is missing
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def _filter_kabkota(table: pa.Table, kabkota_code: str | None) -> pd.DataFrame:
    if kabkota_code is not None and "kabkota_code" in table.column_names:
        # Filtered in Arrow: every partition task reads the period's file, and converting all of a
        # national month to pandas once per kab/kota was most of the stage's time.
        table = table.filter(pc.equal(pc.cast(table["kabkota_code"], pa.string()), kabkota_code))
    return _int64_to_pandas(table)


def iter_accepted_tables(storage: Storage, period: str) -> Iterator[pa.Table]:
    """The period's accepted Parquet files as Arrow tables, in file order (lazily)."""
    for f in storage.walk_files(f"{SUBMISSIONS_DATASET}/period={period}", "*.parquet"):
        with storage.open(f, "rb") as fh:
            yield pq.read_table(fh)


def accepted_frame(tables: Iterable[pa.Table], period: str, kabkota_code: str | None = None) -> pd.DataFrame:
    """The accepted rows of ``tables`` (only one kab/kota's when ``kabkota_code`` is given)."""
    frames = [_filter_kabkota(t, kabkota_code) for t in tables]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    if "period" not in df.columns:
        df["period"] = period
    return df


def read_accepted(storage: Storage, period: str, kabkota_code: str | None = None) -> pd.DataFrame:
    """The period's accepted rows (only one kab/kota's when ``kabkota_code`` is given)."""
    return accepted_frame(iter_accepted_tables(storage, period), period, kabkota_code)


def iter_history_tables(storage: Storage, period: str) -> Iterator[tuple[str, pa.Table]]:
    """(period, table) of every accepted file before ``period``, with only the columns the indices use.

    Lazy, so a reader that filters each table as it comes holds one file at a time."""
    for name in storage.listdir(SUBMISSIONS_DATASET):
        if not name.startswith("period=") or name[len("period=") :] >= period:
            continue
        for f in storage.walk_files(f"{SUBMISSIONS_DATASET}/{name}", "*.parquet"):
            with storage.open(f, "rb") as fh:
                pfile = pq.ParquetFile(fh)
                names = pfile.schema_arrow.names
                yield name[len("period=") :], pfile.read(columns=[c for c in HISTORY_COLUMNS if c in names])


def _nibs(df: pd.DataFrame) -> pa.Array:
    """The distinct NIBs of a frame as an Arrow array (a Python set of 10^5 costs ~0.1 s a call)."""
    if "nib" not in df.columns or not len(df):
        return pa.array([], pa.string())
    return pc.unique(pa.array(df["nib"].astype("str"), pa.string()))


def history_frame(
    tables: Iterable[tuple[str, pa.Table]], nibs: Iterable[str] | pa.Array
) -> pd.DataFrame | None:
    """The rows of the given companies in ``tables``, filtered in Arrow before any pandas conversion
    (the history is most of what the stage reads)."""
    value_set = nibs if isinstance(nibs, pa.Array) else pa.array(sorted(nibs), pa.string())
    frames = []
    for file_period, table in tables:
        table = table.filter(pc.is_in(pc.cast(table["nib"], pa.string()), value_set=value_set))
        df = _int64_to_pandas(table)
        if "period" not in df.columns:
            df["period"] = file_period
        frames.append(df)
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else None


def read_history(storage: Storage, period: str, nibs: Iterable[str]) -> pd.DataFrame | None:
    """Accepted rows of the given companies in all periods before ``period`` (for the indices)."""
    return history_frame(iter_history_tables(storage, period), nibs)


def _read_table_file(path: str) -> pd.DataFrame:
    return (
        pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path, dtype={"sector_code": str})
    )


# --- tasks -------------------------------------------------------------------------------------------
@task(name="company-kabkota-codes", cache_policy=NO_CACHE)
def kabkota_codes_task(storage_root: str, period: str) -> tuple[list[str], int]:
    """The kab/kota codes present in the period's accepted rows, and the number of rows."""
    codes: set[str] = set()
    rows = 0
    storage = Storage(storage_root)
    for f in storage.walk_files(f"{SUBMISSIONS_DATASET}/period={period}", "*.parquet"):
        with storage.open(f, "rb") as fh:
            pfile = pq.ParquetFile(fh)
            rows += pfile.metadata.num_rows
            if "kabkota_code" in pfile.schema_arrow.names:
                col = pfile.read(columns=["kabkota_code"]).column(0)
                codes.update(pc.unique(pc.cast(col, pa.string())).drop_null().to_pylist())
    return sorted(codes), rows


@dataclass(frozen=True)
class Reference:
    """Everything a partition needs besides its own rows: configured tables and benchmarks."""

    deflators: pd.DataFrame | None
    umk: pd.DataFrame | None
    national: pd.DataFrame | None
    provincial_sector: pd.DataFrame | None
    provincial_total: pd.DataFrame | None


def load_reference(
    storage: Storage,
    umk_table: str = "",
    deflator_table: str = "",
    kemnaker_csv: str = "",
    sector_pdrb_table: str = "",
    sector_employment_table: str = "",
) -> Reference:
    provincial_sector = None
    if sector_pdrb_table:
        if sector_employment_table:
            emp = _read_table_file(sector_employment_table)
        elif storage.exists(SECTOR_EMPLOYMENT_REL):
            emp = read_frame(storage, SECTOR_EMPLOYMENT_REL)
        else:
            emp = None
        if emp is not None:
            provincial_sector = bm.provincial_sector_benchmark(_read_table_file(sector_pdrb_table), emp)
    return Reference(
        deflators=load_deflator_table(deflator_table),
        umk=load_umk_table(umk_table),
        national=bm.national_sector_benchmark(kemnaker_csv) if kemnaker_csv else None,
        provincial_sector=provincial_sector,
        provincial_total=(
            bm.provincial_total_benchmark(read_frame(storage, PROVINCIAL_REL))
            if storage.exists(PROVINCIAL_REL)
            else None
        ),
    )


def _kabkota_rows(accepted: Iterable[pa.Table], period: str, kabkota_code: str) -> pd.DataFrame:
    df = accepted_frame(accepted, period, kabkota_code)
    return df[df["kabkota_code"].astype("str") == kabkota_code].reset_index(drop=True)


def _indicators(current: pd.DataFrame, history: pd.DataFrame | None, ref: Reference) -> pd.DataFrame:
    out = compute_company_indicators(current, history=history, deflators=ref.deflators, umk=ref.umk)
    out = bm.attach_benchmarks(
        out,
        provincial_sector=ref.provincial_sector,
        national_sector=ref.national,
        provincial_total=ref.provincial_total,
    )
    return out[COMPANY_INDICATORS_SCHEMA.names]


def partition_indicators(
    accepted: Iterable[pa.Table],
    history: Iterable[tuple[str, pa.Table]],
    period: str,
    kabkota_code: str,
    ref: Reference,
) -> pd.DataFrame:
    """Indicators and benchmarks of one kab/kota's companies, from the period's and earlier tables."""
    df = _kabkota_rows(accepted, period, kabkota_code)
    return _indicators(df, history_frame(history, _nibs(df)), ref)


def _computable_at_once(rows: list[pd.DataFrame], history: list[tuple[str, pa.Table]]) -> bool:
    """Whether the partitions' rows, stacked, give each partition's indicators unchanged.

    Every indicator is a function of its row, except the indices, which are per company over its
    rows of this and earlier periods: the same rows as long as no company is in two partitions.
    Identical column types keep stacking (and the history's concatenation) from changing a type.
    """
    if not rows:
        return False
    nibs = [_nibs(r) for r in rows]
    if sum(len(n) for n in nibs) != len(pc.unique(pa.chunked_array(nibs, pa.string()))):
        return False
    if any(list(r.columns) != list(rows[0].columns) or not r.dtypes.equals(rows[0].dtypes) for r in rows):
        return False
    return all(t.schema.equals(history[0][1].schema) for _, t in history)


@task(name="company-indicators-partition", cache_policy=NO_CACHE)
def company_partition_task(
    storage_root: str,
    period: str,
    kabkota_code: str,
    umk_table: str = "",
    deflator_table: str = "",
    kemnaker_csv: str = "",
    sector_pdrb_table: str = "",
    sector_employment_table: str = "",
) -> pd.DataFrame:
    """Indicators and benchmarks of one kab/kota's companies for the period."""
    storage = Storage(storage_root)
    ref = load_reference(
        storage, umk_table, deflator_table, kemnaker_csv, sector_pdrb_table, sector_employment_table
    )
    return partition_indicators(
        iter_accepted_tables(storage, period), iter_history_tables(storage, period), period, kabkota_code, ref
    )


@task(name="company-indicators", cache_policy=NO_CACHE)
def company_partitions_task(
    storage_root: str,
    period: str,
    kabkota_codes: list[str],
    umk_table: str = "",
    deflator_table: str = "",
    kemnaker_csv: str = "",
    sector_pdrb_table: str = "",
    sector_employment_table: str = "",
) -> list[pd.DataFrame]:
    """Every kab/kota partition of the period in one task: the same frames as
    :func:`company_partition_task` per code, with the files and reference tables read once and,
    where that cannot change a figure, the indicators computed in one pass."""
    storage = Storage(storage_root)
    ref = load_reference(
        storage, umk_table, deflator_table, kemnaker_csv, sector_pdrb_table, sector_employment_table
    )
    accepted = list(iter_accepted_tables(storage, period))
    history = list(iter_history_tables(storage, period))
    rows = [_kabkota_rows(accepted, period, code) for code in kabkota_codes]
    if not _computable_at_once(rows, history):
        return [_indicators(r, history_frame(history, _nibs(r)), ref) for r in rows]
    # One pass over the stacked partitions: the indicator code's cost is mostly per call (a few
    # dozen column operations), which ten calls for a province's month paid ten times.
    stacked = pd.concat(rows, ignore_index=True)
    out = _indicators(stacked, history_frame(history, _nibs(stacked)), ref)
    ends = np.cumsum([len(r) for r in rows])
    return [out.iloc[end - len(r) : end].reset_index(drop=True) for r, end in zip(rows, ends, strict=True)]


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def clean(v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return None
        return v.item() if hasattr(v, "item") else v

    return [{k: clean(v) for k, v in r.items()} for r in rows]


@task(name="company-aggregates", cache_policy=NO_CACHE)
def aggregates_task(
    storage_root: str,
    period: str,
    parts: list[pd.DataFrame],
    p_percent: float,
    min_companies: int,
    run_id: str,
) -> dict[str, Any]:
    """Write the company partition, then the disclosure-controlled aggregates of the whole period."""
    storage = Storage(storage_root)
    parts = [p for p in parts if len(p)]
    if parts:
        companies = pd.concat(parts, ignore_index=True)
        companies = companies.sort_values(["kabkota_code", "nib", "source_file", "source_row"], kind="stable")
        companies = companies.reset_index(drop=True)
    else:
        companies = pd.DataFrame({c: pd.Series([], dtype="object") for c in COMPANY_INDICATORS_SCHEMA.names})
    prev_period = previous_month(period)
    prev_files = storage.walk_files(f"{AGGREGATES_DATASET}/period={prev_period}", "*.parquet")
    previous = (
        pd.concat([read_frame(storage, f) for f in prev_files], ignore_index=True) if prev_files else None
    )
    rules = DisclosureRules(min_companies=min_companies, p_percent=p_percent)
    aggregates = disclosure_aggregates(companies, period, rules, previous=previous)

    meta = {"run_id": run_id, "period": period, "synthetic_inputs_possible": "see source_file"}
    company_url = write_partition(
        storage,
        COMPANY_DATASET,
        f"period={period}",
        frame_to_table(companies, COMPANY_INDICATORS_SCHEMA),
        meta,
    )
    # p stays out of the file: published p% parameters help an attacker (METHOD.md §4)
    agg_meta = {
        **meta,
        "min_companies": min_companies,
        "carried_from": prev_period if previous is not None else "",
    }
    agg_url = write_partition(
        storage,
        AGGREGATES_DATASET,
        f"period={period}",
        frame_to_table(aggregates, AGGREGATES_SCHEMA),
        agg_meta,
    )
    reasons = aggregates["suppression_reason"].fillna("")
    counts = {
        "company_rows": len(companies),
        "companies": int(companies["nib"].nunique()) if len(companies) else 0,
        "kabkota_partitions": len(parts),
        "negative_value_added": int(companies["flag_negative_va"].sum()) if len(companies) else 0,
        "below_umk": int(companies["flag_below_umk"].fillna(False).astype(bool).sum())
        if len(companies)
        else 0,
        "benchmark_ratios": int(companies["benchmark_ratio"].notna().sum()) if len(companies) else 0,
        "aggregate_cells": len(aggregates),
        "cells_published": int((~aggregates["suppressed"].astype(bool)).sum()) if len(aggregates) else 0,
        "cells_suppressed": int(aggregates["suppressed"].astype(bool).sum()) if len(aggregates) else 0,
        "cells_secondary": int(reasons.str.contains("secondary").sum()),
        "cells_carried": int(reasons.str.contains("carried").sum()),
    }
    published_kabkota = aggregates[
        (aggregates["level"] == "kabkota") & ~aggregates["suppressed"].astype(bool)
    ]
    cols = [
        "kabkota_code",
        "n_companies",
        "va_per_worker_annualised_idr",
        "va_per_hour_idr",
        "labour_share_pct",
    ]
    return {
        "counts": counts,
        "outputs": [company_url, agg_url],
        "tables": {"aggregates-kabkota": _jsonable(published_kabkota[cols].to_dict("records"))},
        "price_basis": sorted(companies["price_basis"].dropna().unique().tolist()) if len(companies) else [],
    }


# --- the stage ---------------------------------------------------------------------------------------
def _kemnaker_csv(storage: Storage) -> str:
    if storage.exists(KEMNAKER_REL):
        return storage.read_text(KEMNAKER_REL)
    bundled = PROJECT_ROOT / "data" / KEMNAKER_REL
    return bundled.read_text(encoding="utf-8") if bundled.exists() else ""


@flow(name="company-stage", flow_run_name="company-{period}")
def company_stage(settings: Settings, storage_root: str, period: str, run_id: str) -> dict:
    """Company indicators, benchmarks and disclosure-controlled aggregates for one period."""
    log = get_logger()
    storage = Storage(storage_root)
    notices: list[str] = []
    diagnostics: list[str] = []
    codes, n_rows = kabkota_codes_task(storage.root, period)
    if not codes:
        notices.append(
            f"No accepted company submissions for {period}: the company indicators and aggregates for the "
            "period are written empty."
        )
    kemnaker = _kemnaker_csv(storage)
    if not kemnaker:
        diagnostics.append(f"{KEMNAKER_REL} not found: no national sector benchmark")
    extra = settings.extra or {}
    options = {
        "umk_table": settings.umk_table,
        "deflator_table": settings.deflator_table,
        "kemnaker_csv": kemnaker,
        "sector_pdrb_table": str(extra.get("sector_pdrb_table", "")),
        "sector_employment_table": str(extra.get("sector_employment_table", "")),
    }
    parts: Any
    if one_task(n_rows, settings.task_runner):
        parts = company_partitions_task(storage.root, period, codes, **options)
    else:
        parts = company_partition_task.map(
            unmapped(storage.root), unmapped(period), codes, **{k: unmapped(v) for k, v in options.items()}
        )
    result = aggregates_task(
        storage.root,
        period,
        parts,
        p_percent=settings.disclosure_p_percent,
        min_companies=settings.disclosure_min_companies,
        run_id=run_id,
    )
    counts = result["counts"]
    if codes and not settings.deflator_table:
        notices.append(
            "Company value added is at current prices (no deflator table configured): productivity indices are "
            "nominal and no ratio to the sector benchmark (constant 2010 prices) is given."
        )
    if codes and not settings.umk_table:
        diagnostics.append("no UMK table configured: flag_below_umk is null")
    if counts["cells_suppressed"]:
        notices.append(
            f"{counts['cells_suppressed']} of {counts['aggregate_cells']} aggregate cells for {period} are withheld "
            f"for confidentiality ({counts['cells_secondary']} secondary, {counts['cells_carried']} carried)."
        )
    log.info("company stage %s: %s", period, counts)
    return {
        "counts": counts,
        "outputs": result["outputs"],
        "notices": notices,
        "diagnostics": diagnostics,
        "tables": result["tables"],
    }
