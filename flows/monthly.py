"""The monthly flow: one period (``YYYY-MM``) through every stage, in order.

Each stage is a Prefect subflow in its own ``flows/stage_*.py`` module; it reads only what the
stage before wrote, so any stage can be re-run alone for a period. The run summary (what came in,
what was written, notices for a person) is published as Prefect artifacts and written to
``processed/runs/<run-id>.json`` under the storage root.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.context import FlowRunContext
from prefect.settings import get_current_settings

from flows.runtime import check_period, inline_stage_settings, resolve_period, stage_done
from flows.settings import Settings, load_settings
from flows.stage_bps import bps_stage
from flows.stage_bulletin import bulletin_stage
from flows.stage_company import company_stage
from flows.stage_submissions import submissions_stage
from tasks.charts import set_png_cache
from tasks.memory import return_free_memory
from tasks.run_summary import publish_run_summary
from tasks.storage import Storage

__all__ = ["check_period", "monthly_flow"]


@flow(name="produktivitas-monthly", flow_run_name="monthly-{period}")
def monthly_flow(
    period: str = "previous", storage_root: str | None = None, deliver: bool = True, lang: str | None = None
) -> dict[str, Any]:
    """Run the whole pipeline for one month on the configured (by default the bundled) data.

    ``period`` is ``YYYY-MM``, or ``previous`` (the month before today in WITA: what the schedule uses).
    """
    settings: Settings = load_settings(storage_root=storage_root)
    period = check_period(resolve_period(period, tz=settings.schedule_timezone))
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
    stages = summary["stages"]
    # PNG charts for e-mail are reused while their data and drawing code are unchanged (keyed on both)
    set_png_cache(Path(get_current_settings().results.local_storage_path) / "produktivitas-charts")
    common = {"settings": settings, "storage_root": storage.root, "period": period, "run_id": run_id}
    with inline_stage_settings():
        stages["bps"] = stage_done(period, "bps", bps_stage(**common))
        stages["submissions"] = stage_done(period, "submissions", submissions_stage(**common))
        return_free_memory()  # what the stage freed (a national month: ~250 MB of read rows and outcome)
        stages["company"] = stage_done(period, "company", company_stage(**common))
        return_free_memory()  # the company frames, before the bulletin stage starts its report workers
        stages["bulletin"] = stage_done(
            period, "bulletin", bulletin_stage(**common, deliver=deliver, lang=lang)
        )
    summary["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary["notices"] = [n for st in stages.values() for n in st.get("notices", [])]
    publish_run_summary(storage, summary)
    return summary
