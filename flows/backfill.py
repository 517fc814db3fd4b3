"""Backfill: the monthly flow for every month of a range, in order, as subflows of one parent run.

Re-running a month is safe: each stage replaces that month's partitions exactly and the delivery
ledger keeps delivered e-mails from going out twice. A failed month does not stop the others; the
table at the end says which months to re-run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import Flow, flow
from prefect.artifacts import create_table_artifact

from flows.runtime import configure_flow, get_progress, period_range, task_runner_for
from flows.settings import load_settings
from tasks.logs import get_logger
from tasks.storage import Storage


def load_monthly_flow() -> Flow:
    """The monthly flow (imported late so the backfill module loads without every stage)."""
    from flows.monthly import monthly_flow

    return monthly_flow


@contextmanager
def shared_dask_address(kind: str, address: str) -> Iterator[str]:
    """One local Dask cluster for the whole backfill instead of one per month (each start costs seconds)."""
    if kind != "dask" or address:
        yield address
        return
    from distributed import LocalCluster

    from flows.runtime import LOCAL_DASK_CLUSTER

    with LocalCluster(**LOCAL_DASK_CLUSTER) as cluster:
        yield cluster.scheduler_address


def has_submissions(storage: Storage, period: str) -> bool:
    return bool(storage.walk_files(f"raw/submissions/{period}"))


@flow(name="produktivitas-backfill", flow_run_name="backfill-{start}-to-{end}")
def backfill_flow(
    start: str,
    end: str,
    storage_root: str | None = None,
    deliver: bool = True,
    task_runner: str | None = None,
    dask_address: str | None = None,
) -> dict[str, Any]:
    """Run the monthly flow for each month from ``start`` to ``end`` (inclusive, in order)."""
    periods = period_range(start, end)
    settings = load_settings(storage_root=storage_root)
    storage = Storage(settings.storage_root)
    progress = get_progress()
    log = get_logger()
    kind = task_runner or settings.task_runner
    monthly = load_monthly_flow()
    results: list[dict[str, Any]] = []
    with shared_dask_address(kind, dask_address or settings.dask_address) as address:
        runner_monthly = configure_flow(monthly, settings, task_runner_for(kind, address))
        for i, period in enumerate(periods, start=1):
            progress.period_start(period, i, len(periods))
            note = ""
            if not has_submissions(storage, period):
                note = "no submissions: BPS part only"
                progress.note(f"{period}: no company submissions in raw/submissions/{period}/; BPS part only")
            state = runner_monthly(
                period=period, storage_root=storage.root, deliver=deliver, return_state=True
            )
            if state.is_completed():
                summary = state.result()
                if period not in progress.seen:  # the monthly flow did not report stages live
                    for name, st in summary.get("stages", {}).items():
                        progress.stage_done(period, name, st)
                failed = any(st.get("fatal") for st in summary.get("stages", {}).values())
                results.append(
                    {
                        "period": period,
                        "status": "failed" if failed else "completed",
                        "run_id": summary.get("run_id", ""),
                        "note": note,
                        "summary": summary,
                        "error": "; ".join(
                            st["fatal"] for st in summary.get("stages", {}).values() if st.get("fatal")
                        ),
                    }
                )
            else:
                message = state.message or state.name or "failed"
                progress.note(f"{period}: FAILED ({message})")
                log.error("backfill %s failed: %s", period, message)
                results.append({"period": period, "status": "failed", "note": note, "error": message})
    from flows.report import backfill_rows

    rows = backfill_rows(results)
    try:
        create_table_artifact(
            key=f"backfill-{start}-to-{end}",
            table=rows,
            description=f"produktivitas backfill {start} to {end}",
        )
    except Exception as exc:  # the artifact is a view; the per-month run records are the record
        log.warning("could not publish the backfill table artifact: %s", exc)
    log.info(
        "backfill %s to %s: %d of %d completed",
        start,
        end,
        sum(r["status"] == "completed" for r in results),
        len(results),
    )
    return {"start": start, "end": end, "storage_root": storage.root, "results": results}
