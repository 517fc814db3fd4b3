"""The monthly deployment: a cron schedule in WITA (Asia/Makassar) running the previous month.

Two ways to run it (both need a standing ``prefect server start``; see docs/operations.md):

- ``produktivitas serve``: one long-lived process serves the deployment (:func:`serve_monthly`).
- ``prefect.yaml``: ``prefect deploy`` registers it on the ``produktivitas-pool`` process work pool
  and ``prefect worker start --pool produktivitas-pool`` runs it, on as many machines as needed.

Both run :data:`scheduled_monthly_flow` (the monthly flow with the configured task runner and the
failure alert hooks), so the alert fires however the run was started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.schedules import Cron, Schedule

from flows.monthly import monthly_flow
from flows.runtime import configure_flow
from flows.settings import PROJECT_ROOT, Settings, load_settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

DEPLOYMENT_NAME = "monthly"
WORK_POOL = "produktivitas-pool"
ENTRYPOINT = "flows/deployments.py:scheduled_monthly_flow"
TAGS = ["produktivitas", "monthly"]

# What the worker or serve process imports: module-level, so hooks and runner survive the
# subprocess each run gets (Prefect re-imports the entrypoint there).
scheduled_monthly_flow = configure_flow(monthly_flow, load_settings())


def monthly_schedule(settings: Settings) -> Schedule:
    """The cron schedule in the configured time zone (default ``0 7 5 * *`` in Asia/Makassar)."""
    return Cron(settings.schedule_cron, timezone=settings.schedule_timezone)


def deployment_parameters(storage_root: str | None = None, deliver: bool = True) -> dict[str, Any]:
    """``period="previous"``: the flow resolves it to last month on the WITA calendar at run time."""
    params: dict[str, Any] = {"period": "previous", "deliver": deliver}
    if storage_root:
        params["storage_root"] = storage_root
    return params


def build_deployment(
    settings: Settings,
    name: str = DEPLOYMENT_NAME,
    storage_root: str | None = None,
    work_pool_name: str | None = None,
) -> RunnerDeployment:
    """The RunnerDeployment of the monthly flow (inspectable without a server)."""
    dep = scheduled_monthly_flow.to_deployment(
        name=name,
        schedule=monthly_schedule(settings),
        parameters=deployment_parameters(storage_root),
        tags=TAGS,
        description=(
            "Monthly labour-productivity run for Disnakertrans Kalimantan Timur: the previous month, "
            f"scheduled '{settings.schedule_cron}' in {settings.schedule_timezone}."
        ),
        work_pool_name=work_pool_name,
    )
    # to_deployment derives the entrypoint from the wrapped function (flows/monthly.py:monthly_flow),
    # which would lose the hooks in the run's subprocess; point it at the configured flow instead.
    dep.entrypoint = ENTRYPOINT
    return dep


def serve_monthly(settings: Settings, storage_root: str | None = None, name: str = DEPLOYMENT_NAME) -> None:
    """Serve the deployment from this process until interrupted (Ctrl-C pauses its schedule)."""
    import os

    from prefect import serve

    # Relative entrypoints resolve against the working directory of the serving process.
    os.chdir(PROJECT_ROOT)
    serve(build_deployment(settings, name=name, storage_root=storage_root))
