"""The monthly flow: one period (``YYYY-MM``) through every stage, in order.

Each stage is a Prefect subflow in its own ``flows/stage_*.py`` module; it reads only what the
stage before wrote, so any stage can be re-run alone for a period. The run summary (what came in,
what was written, notices for a person) is published as Prefect artifacts and written to
``runs/<run-id>.json`` under the storage root.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.context import FlowRunContext

from flows.settings import Settings, load_settings
from flows.stage_bps import bps_stage
from tasks.run_summary import publish_run_summary
from tasks.storage import Storage

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_period(period: str) -> str:
    if not PERIOD_RE.match(period or ""):
        raise ValueError(f"period must be YYYY-MM (e.g. 2025-08), got {period!r}")
    return period


@flow(name="produktivitas-monthly", flow_run_name="monthly-{period}")
def monthly_flow(period: str, storage_root: str | None = None, deliver: bool = True) -> dict[str, Any]:
    """Run the whole pipeline for one month on the configured (by default the bundled) data."""
    check_period(period)
    settings: Settings = load_settings(storage_root=storage_root)
    storage = Storage(settings.storage_root)
    ctx = FlowRunContext.get()
    run_id = (
        str(ctx.flow_run.id) if ctx and ctx.flow_run else datetime.now(UTC).strftime("local-%Y%m%dT%H%M%S")
    )
    log = get_run_logger()
    log.info(
        "period %s, storage %s, BPS %s",
        period,
        storage.root,
        "offline (stored snapshot)" if settings.bps_offline_effective else "online (WebAPI)",
    )
    summary: dict[str, Any] = {
        "run_id": run_id,
        "period": period,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "storage_root": storage.root,
        "settings": settings.describe(),
        "stages": {},
    }
    summary["stages"]["bps"] = bps_stage(
        settings=settings, storage_root=storage.root, period=period, run_id=run_id
    )
    summary["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary["notices"] = [n for st in summary["stages"].values() for n in st.get("notices", [])]
    publish_run_summary(storage, summary)
    return summary
