"""The BPS stage: BPS tables (WebAPI or the newest stored data) -> validated tidy tables -> productivity.

With a key (and not offline) var 533 is fetched through the WebAPI and stored raw; on any WebAPI failure
the stage falls back to the newest stored retrieval (the bundled snapshot on a fresh checkout) and says so.
Without a key it uses the newest stored data directly. The other tables are bundled files.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import INPUTS, NO_CACHE, TASK_SOURCE

from flows.runtime import bps_fetch_cache_options
from flows.settings import Settings
from schemas import bps_catalogue as cat
from schemas.indicators import (
    EMPLOYED_SCHEMA,
    EMPLOYED_TABLE_REL,
    GRDP_SCHEMA,
    GRDP_TABLE_REL,
    KABKOTA_REL,
    KABKOTA_SCHEMA,
    PROVINCIAL_REL,
    PROVINCIAL_SCHEMA,
    SECTOR_SCHEMA,
    SECTOR_TABLE_REL,
)
from tasks import bps_tables as bt
from tasks import bps_validate as bv
from tasks import cache_keys as ck
from tasks import provincial as pv
from tasks.bps_decode import decode_data_response
from tasks.bps_errors import BpsApiError, BpsTransportError
from tasks.logs import get_logger
from tasks.parquet_io import frame_to_table, write_table
from tasks.secrets import Secret, redact
from tasks.storage import Storage

GRDP_DATASET = "pdrb_adhk_province"


def _vintage_of(entries: list[dict], ds: cat.BpsDataset) -> str:
    """A stable description of where the var 533 figures come from (same inputs -> same text)."""
    if all(e.get("kind") == "bundled-webapi" for e in entries):
        return f"bundled snapshot: {ds.vintage}"
    retrieved = max(str(e.get("retrieved_at")) for e in entries)
    updates = sorted({str(e["last_update"]) for e in entries if e.get("last_update")})
    lu = f"last_update {', '.join(updates)}" if updates else "no last_update in the response"
    return f"BPS WebAPI retrieved {retrieved}; {lu}"


def _retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """One more attempt only for transport failures (the client already retried each request);
    a refused key or a missing table will not change by retrying."""
    try:
        state.result()
    except BpsTransportError:
        return True
    except Exception:  # noqa: BLE001 - any other failure goes straight to the fallback
        return False
    return False


@task(
    name="bps-fetch",
    **bps_fetch_cache_options(),
    retries=1,
    retry_delay_seconds=5,
    retry_condition_fn=_retry_transient,
)
def fetch_task(
    storage_root: str,
    base_url: str,
    api_key: Secret,
    timeout: float,
    retries: int,
    backoff: float,
    domain: str,
    var: int,
    years: list[int],
    turvar: int | None,
) -> list[dict]:
    """Fetch one table (the client retries 429/5xx/timeouts with back-off) and store every chunk raw."""
    from tasks.bps_client import BpsClient
    from tasks.bps_raw import fetch_and_store

    with BpsClient(base_url, api_key, timeout=timeout, retries=retries, backoff=backoff) as client:
        return fetch_and_store(client, Storage(storage_root), domain, var, years, turvar=turvar)


# The bundled file tables the stage reads besides var 533 (all of them enter the cache key).
FILE_TABLES = (
    "pdrb_adhk_province_file",
    "pdb_adhk_national",
    "pdrb_adhk_kabkota",
    "employed_province",
    "employed_kabkota",
    "employed_by_sector_kaltim",
)
# Everything that decides the validated tables and the productivity: our modules, the code lists
# and field specs in schemas/, and the libraries that parse, validate and compute.
CHAIN_MODULES = (
    "flows.stage_bps",
    "tasks.bps_tables",
    "tasks.bps_validate",
    "tasks.provincial",
    "tasks.bps_decode",
    "tasks.bps_raw",
)
CHAIN_DISTRIBUTIONS = ("pandas", "numpy", "pyarrow", "great_expectations")


def parse_tables(storage: Storage, entries: list[dict], data_source: str) -> dict[str, Any]:
    """Decode the stored var 533 responses and read the bundled file tables into tidy frames."""
    from tasks.bps_raw import read_stored_body

    ds = cat.dataset(GRDP_DATASET)
    diagnostics: list[str] = []
    if entries:
        decoded = [decode_data_response(read_stored_body(storage, e)) for e in entries]
        source = ds.source if data_source == "snapshot" else f"BPS WebAPI var {ds.var} domain {ds.domain}"
        res = bt.grdp_from_decoded(decoded, ds, _vintage_of(entries, ds), source=source)
        diagnostics += res.diagnostics
        grdp_prov = res.frame
    else:
        fb = cat.dataset(ds.fallback or "")
        grdp_prov = bt.grdp_from_file(storage, cat.BpsDataset(**{**fb.__dict__, "years": ds.years}))
    grdp = bt.assemble_grdp(
        [
            grdp_prov,
            bt.grdp_from_file(storage, cat.dataset("pdrb_adhk_province_file")),
            bt.national_pdb_from_file(storage, cat.dataset("pdb_adhk_national")),
            bt.kabkota_grdp_from_file(storage, cat.dataset("pdrb_adhk_kabkota")),
        ]
    )
    employed = bt.assemble_employed(
        [
            bt.employed_from_file(storage, cat.dataset("employed_province")),
            bt.kabkota_employed_from_file(storage, cat.dataset("employed_kabkota")),
        ]
    )
    sector = bt.sector_from_file(storage, cat.dataset("employed_by_sector_kaltim"))
    diagnostics += sector.diagnostics
    return {"grdp": grdp, "employed": employed, "sector": sector.frame, "diagnostics": diagnostics}


def validate_tables(
    grdp: pd.DataFrame, employed: pd.DataFrame, sector: pd.DataFrame
) -> list[bv.ValidationReport]:
    """GX suites + cross-region checks; a hard failure stops the stage with the failing checks listed."""
    reports = [bv.validate_grdp(grdp), bv.validate_employed(employed), bv.validate_sector(sector)]
    log = get_logger()
    for r in reports:
        log.info(
            "validation %s: %d checks, %d hard / %d soft failures",
            r.table,
            len(r.outcomes),
            len(r.hard_failures),
            len(r.soft_failures),
        )
        bv.raise_on_hard(r)
    return reports


def input_files(entries: list[dict]) -> list[str]:
    """Every stored file :func:`parse_tables` reads for these var 533 entries."""
    ds = cat.dataset(GRDP_DATASET)
    grdp = [str(e["path"]) for e in entries] if entries else [cat.dataset(ds.fallback or "").file or ""]
    return grdp + [cat.dataset(k).file or "" for k in FILE_TABLES]


def chain_code_digest() -> str:
    return ck.code_digest(CHAIN_MODULES, packages=("schemas",), distributions=CHAIN_DISTRIBUTIONS)


@task(
    name="bps-tables",
    # Parsing, validating and computing are deterministic in the stored inputs and the code: the key
    # is the content digest of every file read plus the digest of the code and library versions (and
    # the entries, whose retrieval times name the vintage). An unchanged warm re-run reuses the
    # validated tables without importing Great Expectations (~5 s); any changed byte validates fully.
    # A hard validation failure raises, and a failed run is never cached.
    cache_policy=(INPUTS - "storage_root") + TASK_SOURCE,
    persist_result=True,
)
def tables_task(
    storage_root: str, entries: list[dict], data_source: str, inputs_sha256: str, code_sha256: str
) -> dict[str, Any]:
    """Parse the stored BPS inputs, validate them (GX + cross-region checks), compute productivity."""
    parsed = parse_tables(Storage(storage_root), entries, data_source)
    reports = validate_tables(parsed["grdp"], parsed["employed"], parsed["sector"])
    prov = pv.provincial_productivity(parsed["grdp"], parsed["employed"])
    kab = pv.kabkota_productivity(parsed["grdp"], parsed["employed"])
    diagnostics = list(parsed["diagnostics"])
    for r in reports:
        diagnostics += r.lines()
    return {
        "grdp": parsed["grdp"],
        "employed": parsed["employed"],
        "sector": parsed["sector"],
        "provincial": prov.frame,
        "kabkota": kab.frame,
        "reports": reports,
        "diagnostics": diagnostics + prov.diagnostics + kab.diagnostics,
    }


@task(name="bps-write", cache_policy=NO_CACHE)
def write_task(storage_root: str, frames: dict[str, pd.DataFrame], metadata: dict[str, Any]) -> list[str]:
    """Every output written atomically; run identity only in the file metadata."""
    storage = Storage(storage_root)
    targets = [
        ("grdp", GRDP_TABLE_REL, GRDP_SCHEMA),
        ("employed", EMPLOYED_TABLE_REL, EMPLOYED_SCHEMA),
        ("sector", SECTOR_TABLE_REL, SECTOR_SCHEMA),
        ("provincial", PROVINCIAL_REL, PROVINCIAL_SCHEMA),
        ("kabkota", KABKOTA_REL, KABKOTA_SCHEMA),
    ]
    return [
        write_table(storage, rel, frame_to_table(frames[k], schema), metadata) for k, rel, schema in targets
    ]


def _stored_entries(storage: Storage, ds: cat.BpsDataset) -> list[dict]:
    from tasks.bps_raw import newest_stored

    return newest_stored(storage, ds.domain, int(ds.var or 0))


def _describe_stored(entries: list[dict], ds: cat.BpsDataset) -> tuple[str, str]:
    """(data_source, sentence) for the newest stored data."""
    if not entries:
        return "snapshot-file", (
            f"tidak ada respons var {ds.var} tersimpan; PDRB provinsi diambil dari tabel bawaan "
            f"{cat.dataset(ds.fallback or '').file}"
        )
    if all(e.get("kind") == "bundled-webapi" for e in entries):
        return "snapshot", (f"snapshot BPS bawaan (var {ds.var}, {ds.extra.get('vintage_id', ds.vintage)})")
    return (
        "stored-webapi",
        f"respons BPS WebAPI tersimpan, diambil {max(str(e.get('retrieved_at')) for e in entries)}",
    )


@flow(name="bps-stage", flow_run_name="bps-{period}")
def bps_stage(settings: Settings, storage_root: str, period: str, run_id: str) -> dict:
    """BPS tables -> validated tidy tables -> provincial and kab/kota productivity Parquet."""
    log = get_logger()
    storage = Storage(storage_root)
    ds = cat.dataset(GRDP_DATASET)
    notices: list[str] = []
    diagnostics: list[str] = []
    entries: list[dict] = []
    data_source = ""

    if settings.bps_api_key and not settings.bps_offline:
        try:
            entries = fetch_task(
                storage.root, settings.bps_base_url, settings.bps_api_key, settings.bps_timeout_seconds,
                settings.bps_retries, settings.bps_backoff_seconds, ds.domain, int(ds.var or 0),
                list(ds.years), ds.turvar,
            )  # fmt: skip
            data_source = "webapi"
            log.info("BPS WebAPI: var %s fetched in %d response(s) and stored raw", ds.var, len(entries))
        except BpsApiError as exc:
            entries = _stored_entries(storage, ds)
            data_source, what = _describe_stored(entries, ds)
            msg = redact(str(exc), settings.bps_api_key)
            notices.append(
                f"BPS WebAPI gagal ({type(exc).__name__}: {msg}); memakai data tersimpan terbaru: {what}."
            )
            log.warning("BPS WebAPI failed (%s); using the newest stored data: %s", msg, what)
    else:
        entries = _stored_entries(storage, ds)
        data_source, what = _describe_stored(entries, ds)
        why = (
            "mode offline (PRODUKTIVITAS_BPS_OFFLINE)"
            if settings.bps_offline
            else "tidak ada kunci BPS_API_KEY"
        )
        notices.append(f"Data BPS tidak diambil dari WebAPI ({why}); memakai data tersimpan terbaru: {what}.")
        log.info("BPS WebAPI not used (%s); using %s", why, what)

    try:
        state = tables_task(
            storage.root, entries, data_source, ck.files_digest(storage, input_files(entries)),
            chain_code_digest(), return_state=True,
        )  # fmt: skip
        tables = state.result()
    except (bt.BpsTableError, FileNotFoundError) as exc:
        # Nothing readable at all (snapshot files missing or unusable): say so instead of a traceback.
        log.error("BPS stage could not read its inputs: %s", exc)
        return {
            "counts": {},
            "outputs": [],
            "notices": notices,
            "diagnostics": diagnostics,
            "tables": {},
            "data_source": data_source,
            "vintages": {},
            "fatal": f"Tabel BPS tidak dapat dibaca: {exc}",
        }
    reports: list[bv.ValidationReport] = tables["reports"]
    if state.name == "Cached":
        log.info(
            "BPS inputs and code unchanged since a validated run: tables reused (%s)",
            "; ".join(
                f"{r.table} {len(r.outcomes)} checks, {len(r.soft_failures)} soft failures" for r in reports
            ),
        )
    diagnostics += tables["diagnostics"]

    grdp = tables["grdp"]
    vintages = {"grdp_var533": _vintage_of(entries, ds) if entries else "file fallback"} | {
        "grdp_2024": cat.dataset("pdrb_adhk_province_file").vintage,
        "pdb_national": cat.dataset("pdb_adhk_national").vintage,
        "employment": cat.dataset("employed_province").vintage,
        "kabkota_grdp": cat.dataset("pdrb_adhk_kabkota").vintage,
    }
    metadata = {
        "run_id": run_id,
        "period": period,
        "stage": "bps",
        "data_source": data_source,
        "vintages": vintages,
        "raw_inputs": [e.get("path") for e in entries],
    }
    frames = {k: tables[k] for k in ("grdp", "employed", "sector", "provincial", "kabkota")}
    outputs = write_task(storage.root, frames, metadata)
    prov = tables["provincial"]
    return {
        "counts": {
            "webapi_responses": len(entries) if data_source == "webapi" else 0,
            "grdp_rows": len(grdp),
            "employed_rows": len(tables["employed"]),
            "sector_rows": len(tables["sector"]),
            "provincial_rows": len(prov),
            "provincial_with_productivity": int(prov["productivity_million_idr_per_worker"].notna().sum()),
            "kabkota_rows": len(tables["kabkota"]),
            "kabkota_with_productivity": int(
                tables["kabkota"]["productivity_million_idr_per_worker"].notna().sum()
            ),
            "validation_soft_failures": sum(len(r.soft_failures) for r in reports),
        },
        "outputs": outputs,
        "notices": notices,
        "diagnostics": diagnostics,
        "tables": {"provincial-productivity": pv.headline_rows(prov)},
        "data_source": data_source,
        "vintages": vintages,
        "validation": {r.table: {k: v for k, v in r.to_dict().items() if k != "outcomes"} for r in reports},
    }
