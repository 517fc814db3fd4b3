"""The pipeline's stages as plain function calls, one step each, for the stage worker of benchmarks/run.py.

Each step takes a context dict (period, storage_root, and what earlier steps left there), calls the
project's own code (never a re-implementation), and returns the number of rows it handled. A step
whose module is not in the repository yet raises ImportError/NotImplementedError and is reported
as skipped; later steps that need its output are skipped too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

SUBMISSIONS = "processed/submissions"
COMPANY = "processed/indicators/company"
AGGREGATES = "processed/indicators/aggregates"


def _storage(ctx: dict[str, Any]):  # noqa: ANN202 - Storage, imported lazily like the rest
    from tasks.storage import Storage

    if "storage" not in ctx:
        ctx["storage"] = Storage(ctx["storage_root"])
    return ctx["storage"]


def _need(ctx: dict[str, Any], key: str) -> Any:
    if key not in ctx:
        raise NotImplementedError(f"needs '{key}' from an earlier step that did not run")
    return ctx[key]


def imports(ctx: dict[str, Any]) -> int:
    """Import everything up front so each stage's time is its work, not its imports (reported apart)."""
    import importlib

    loaded = 0
    for name in (
        "pandas",
        "pyarrow.parquet",
        "great_expectations",
        "tasks.submission_readers",
        "tasks.submission_validate",
        "tasks.company_indicators",
        "tasks.benchmarks",
        "tasks.disclosure",
        "tasks.bulletin",
    ):
        try:
            importlib.import_module(name)
            loaded += 1
        except ImportError:
            ctx.setdefault("missing_modules", []).append(name)
    return loaded


# --- submissions ---------------------------------------------------------------------------------
def read(ctx: dict[str, Any]) -> int:
    from tasks.submission_readers import read_period

    res = read_period(_storage(ctx), ctx["period"])
    ctx["read"] = res
    ctx.setdefault("counts", {}).update(
        files=len(res.files), rows_read=len(res.rows), cell_errors=len(res.cell_errors),
        file_errors=len(res.file_errors),
    )  # fmt: skip
    return len(res.rows)


def validate(ctx: dict[str, Any]) -> int:
    """Great Expectations suite + pandas masks on the whole period frame (as flows/stage_submissions.py)."""
    import tempfile
    from pathlib import Path

    import tasks.submission_validate as sv

    res = _need(ctx, "read")
    with tempfile.TemporaryDirectory(prefix="bench-gx-") as d:
        ctx["validation"] = sv.validate_rows(
            res.rows, ctx["period"], cell_errors=res.cell_errors, previous=None, docs_dir=Path(d)
        )
    ctx.setdefault("counts", {})["failures"] = len(ctx["validation"].failures)
    return len(res.rows)


def quarantine(ctx: dict[str, Any]) -> int:
    """Duplicates/resubmissions, then accepted vs quarantined with reasons (the row-count invariant)."""
    import tasks.quarantine as qt
    import tasks.submission_validate as sv

    res, val = _need(ctx, "read"), _need(ctx, "validation")
    superseded = sv.resolve_duplicates(val.rows, val.rejected_ids)
    parts = [p for p in (val.failures, superseded) if len(p)]
    failures = pd.concat(parts, ignore_index=True) if parts else val.failures
    outcome = qt.assemble(val.rows, failures, res.file_errors, ctx["period"])
    ctx["outcome"] = outcome
    ctx["accepted"] = outcome.accepted
    ctx.setdefault("counts", {}).update({k: int(v) for k, v in outcome.counts.items()})
    return len(val.rows)


def write_submissions(ctx: dict[str, Any]) -> int:
    """Accepted Parquet, quarantine Parquet/CSV/summaries and GX Data Docs (not the receipts)."""
    import tasks.quarantine as qt

    st, outcome = _storage(ctx), _need(ctx, "outcome")
    meta = {"run_id": "benchmark", "period": ctx["period"]}
    qt.write_accepted(st, outcome, meta)
    qt.write_quarantine(st, outcome, meta)
    docs = ctx["validation"].docs_files
    if docs:

        def build(tmp: str) -> None:
            for name, data in docs.items():
                st.write_bytes(f"{tmp}/{name}", data)

        st.replace_dir(f"processed/data_docs/submissions/period={ctx['period']}", build)
    return len(outcome.accepted) + len(outcome.quarantine_rows)


def receipts(ctx: dict[str, Any]) -> int:
    """One receipt per company (HTML + text in receipts.parquet; HTML files too for small periods)."""
    import tasks.receipts as rc

    res, outcome = _need(ctx, "read"), _need(ctx, "outcome")
    from tasks.process_pool import default_workers

    written = rc.write_receipts(
        _storage(ctx), outcome, {f.file: f.sha256 for f in res.files}, default_workers()
    )
    ctx.setdefault("counts", {}).update(receipts=written["receipts"], receipt_files=written["files"])
    return int(outcome.accepted["nib"].nunique()) if len(outcome.accepted) else 0


# --- company indicators and aggregates -------------------------------------------------------------
def company_indicators_frame(
    cur: pd.DataFrame, history: pd.DataFrame | None, args: Any = None
) -> pd.DataFrame:
    """The project's company indicators (+ benchmark columns when the benchmark module can attach them)."""
    from tasks.company_indicators import compute_company_indicators

    return compute_company_indicators(cur, history)


def aggregates_frame(
    company: pd.DataFrame, period: str, args: Any = None, previous: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """The project's disclosure-controlled aggregates; None while tasks/disclosure.py is not there."""
    try:
        from tasks.disclosure import DisclosureRules, disclosure_aggregates
    except ImportError:
        return None
    rules = DisclosureRules(
        min_companies=int(getattr(args, "min_companies", 3)),
        p_percent=float(getattr(args, "p_percent", 10.0)),
    )
    return disclosure_aggregates(company, period, rules, previous)


def company_indicators(ctx: dict[str, Any]) -> int:
    acc = _need(ctx, "accepted")
    ctx["company"] = company_indicators_frame(acc, None)
    return len(acc)


def aggregates(ctx: dict[str, Any]) -> int:
    comp = _need(ctx, "company")
    agg = aggregates_frame(comp, ctx["period"])
    if agg is None:
        raise NotImplementedError("tasks/disclosure.py is not in the repository yet")
    ctx["aggregates"] = agg
    return len(comp)


def write_outputs(ctx: dict[str, Any]) -> int:
    from schemas.company import AGGREGATES_SCHEMA, COMPANY_INDICATORS_SCHEMA
    from tasks.parquet_io import frame_to_table, write_partition

    st = _storage(ctx)
    comp = _need(ctx, "company")
    cols = [c for c in COMPANY_INDICATORS_SCHEMA.names]
    missing = [c for c in cols if c not in comp.columns]
    comp = comp.assign(**{c: None for c in missing})  # benchmark columns when not attached here
    write_partition(
        st, COMPANY, f"period={ctx['period']}", frame_to_table(comp[cols], COMPANY_INDICATORS_SCHEMA)
    )
    n = len(comp)
    if "aggregates" in ctx:
        agg = ctx["aggregates"]
        write_partition(st, AGGREGATES, f"period={ctx['period']}", frame_to_table(agg, AGGREGATES_SCHEMA))
        n += len(agg)
    return n


# --- bulletin --------------------------------------------------------------------------------------
def bulletin(ctx: dict[str, Any]) -> int:
    from datetime import date

    from tasks import bulletin as b

    st = _storage(ctx)
    inp = b.load_inputs(st, ctx["period"])
    html = b.render_bulletin(b.build_context(inp, "id", date.today(), 1))
    st.write_text(b.bulletin_rel(ctx["period"]), html)
    return len(inp.companies) if inp.companies is not None else 0


def company_reports(ctx: dict[str, Any]) -> int:
    """One confidential report per company (HTML), in batches on the usable cores, as the bulletin stage does."""
    from datetime import date

    from tasks import bulletin as b
    from tasks import formatting as F
    from tasks.company_report import write_company_reports
    from tasks.process_pool import default_workers

    st = _storage(ctx)
    inp = b.load_inputs(st, ctx["period"])
    done = write_company_reports(st, inp, "id", F.long_date(date.today(), "id"), default_workers())
    ctx.setdefault("counts", {})["company_reports"] = done["reports"]
    return done["reports"]


STEPS = (
    ("read", read),
    ("validate", validate),
    ("quarantine", quarantine),
    ("write_submissions", write_submissions),
    ("receipts", receipts),
    ("company_indicators", company_indicators),
    ("aggregates", aggregates),
    ("write_outputs", write_outputs),
    ("bulletin", bulletin),
    ("company_reports", company_reports),
)
