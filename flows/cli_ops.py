"""Operations commands: ``produktivitas serve`` and ``produktivitas backfill``.

Added to the CLI by ``flows.cli`` through ``register(app)`` (listed in ``_COMMAND_MODULES``).
Prefect is imported inside the commands, after ``prefect_env.configure()``.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from flows import prefect_env

TaskRunnerOpt = Annotated[
    str | None,
    typer.Option(
        "--task-runner", help="thread (default) or dask; dask without --dask-address starts a local cluster."
    ),
]
DaskAddressOpt = Annotated[
    str | None, typer.Option("--dask-address", help="Dask scheduler, e.g. tcp://10.0.0.5:8786.")
]
StorageOpt = Annotated[
    str | None, typer.Option("--storage-root", help="Data root (path or s3:// URL); default ./data.")
]


def _quiet_logs(quiet: bool) -> None:
    if quiet:
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"


def backfill(
    start: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    end: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM (inclusive).")],
    storage_root: StorageOpt = None,
    deliver: Annotated[
        bool, typer.Option(help="Send bulletins/reports (already delivered ones are skipped).")
    ] = True,
    task_runner: TaskRunnerOpt = None,
    dask_address: DaskAddressOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only warnings, failures and the last line.")
    ] = False,
) -> None:
    """Run the monthly flow for every month from --from to --to, in order (re-runs are safe)."""
    prefect_env.configure()
    _quiet_logs(quiet)
    from flows.report import print_backfill, print_failure
    from flows.runtime import Progress, period_range, set_progress

    try:
        periods = period_range(start, end)
    except ValueError as exc:
        raise typer.Exit(print_failure(exc, "backfill")) from None
    set_progress(Progress(quiet=quiet))
    if not quiet:
        typer.echo(f"backfill {start} to {end}: {len(periods)} month(s)", err=True)
    from flows.backfill import backfill_flow
    from flows.runtime import alert_on_failure

    try:
        result = backfill_flow.with_options(on_failure=[alert_on_failure], on_crashed=[alert_on_failure])(
            start=start,
            end=end,
            storage_root=storage_root,
            deliver=deliver,
            task_runner=task_runner,
            dask_address=dask_address,
        )
    except Exception as exc:
        raise typer.Exit(print_failure(exc, "backfill")) from None
    raise typer.Exit(print_backfill(result["results"], quiet=quiet))


def serve(
    storage_root: StorageOpt = None,
    name: Annotated[str, typer.Option(help="Deployment name.")] = "monthly",
) -> None:
    """Serve the monthly deployment (cron in WITA, previous month) from this process; needs `prefect server start`."""
    prefect_env.configure()
    from flows.settings import load_settings

    settings = load_settings(storage_root=storage_root)
    if not os.environ.get("PREFECT_API_URL"):
        typer.secho(
            "warning: PREFECT_API_URL is not set. A temporary server cannot schedule runs: start "
            "`prefect server start` and export PREFECT_API_URL=http://127.0.0.1:4200/api first.",
            fg=typer.colors.YELLOW,
            err=True,
        )
    typer.echo(
        f"serving 'produktivitas-monthly/{name}': cron '{settings.schedule_cron}' in "
        f"{settings.schedule_timezone}, period=previous; Ctrl-C to stop (pauses the schedule)",
        err=True,
    )
    from flows.deployments import serve_monthly

    serve_monthly(settings, storage_root=storage_root, name=name)


def register(app: typer.Typer) -> None:
    app.command("backfill")(backfill)
    app.command("serve")(serve)
