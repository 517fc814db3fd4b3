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
    """Great Expectations validation + hard/soft rules + duplicates on the whole period frame."""
    import tasks.submission_validate as sv

    res = _need(ctx, "read")
    fn = getattr(sv, "validate_period", None) or getattr(sv, "validate_submissions", None)
    if fn is None:
        raise NotImplementedError("tasks.submission_validate has no validate_period()")
    out = fn(res, ctx["period"])
    ctx["validated"] = out
    accepted = getattr(out, "accepted", None)
    if accepted is None and isinstance(out, dict):
        accepted = out.get("accepted")
    if accepted is None:
        raise NotImplementedError("validation result has no 'accepted' frame")
    ctx["accepted"] = accepted
    ctx.setdefault("counts", {})["accepted"] = len(accepted)
    return len(res.rows)


def write_accepted(ctx: dict[str, Any]) -> int:
    from schemas.submission_outputs import accepted_schema
    from tasks.parquet_io import frame_to_table, write_partition

    acc = _need(ctx, "accepted")
    schema = accepted_schema()
    table = frame_to_table(acc[list(schema.names)], schema)
    write_partition(_storage(ctx), SUBMISSIONS, f"period={ctx['period']}", table, {"benchmark": "true"})
    return len(acc)


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
        import tasks.disclosure as disc
    except ImportError:
        return None
    fn = getattr(disc, "build_aggregates", None) or getattr(disc, "aggregates", None)
    if fn is None:
        return None
    min_companies = getattr(args, "min_companies", 3)
    p_percent = getattr(args, "p_percent", 10.0)
    return fn(company, period=period, min_companies=min_companies, p_percent=p_percent, previous=previous)


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


STEPS = (
    ("read", read),
    ("validate", validate),
    ("write_accepted", write_accepted),
    ("company_indicators", company_indicators),
    ("aggregates", aggregates),
    ("write_outputs", write_outputs),
    ("bulletin", bulletin),
)
