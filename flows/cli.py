"""The ``produktivitas`` command.

Prefect and the heavy libraries are imported inside the commands, after Prefect's environment is
configured (``flows.prefect_env``), so ``produktivitas --help`` is instant.
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Annotated

import typer

from flows import prefect_env

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="produktivitas: labour-productivity pipeline for Disnakertrans Kalimantan Timur.",
)

# Modules that add their own subcommands with ``register(app)``.
_COMMAND_MODULES: tuple[str, ...] = (
    "flows.cli_submissions",
    "flows.cli_bulletin",
    "flows.cli_ops",
    "flows.cli_bps",
)


@app.callback()
def _root() -> None:
    """produktivitas: labour-productivity pipeline for Disnakertrans Kalimantan Timur."""


def _fail(msg: str, hint: str) -> None:
    typer.secho(f"error: {msg}", fg=typer.colors.RED, err=True)
    typer.secho(f"what to do: {hint}", err=True)
    raise typer.Exit(2)


@app.command()
def run(
    period: Annotated[
        str, typer.Option(help="Month to process, YYYY-MM, or 'previous' (last month in WITA).")
    ] = "2025-08",
    storage_root: Annotated[
        str | None, typer.Option(help="Data root (path or s3:// URL); default ./data.")
    ] = None,
    lang: Annotated[
        str | None, typer.Option(help="Bulletin language for officials: id (default) or en.")
    ] = None,
    deliver: Annotated[
        bool, typer.Option(help="Send (or write to the outbox) bulletins and reports.")
    ] = True,
    task_runner: Annotated[str | None, typer.Option(help="thread (default) or dask.")] = None,
    dask_address: Annotated[
        str | None, typer.Option(help="Dask scheduler, tcp://host:8786; none = local cluster.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and the final line.")] = False,
) -> None:
    """Run the monthly flow for one period on the configured (by default the bundled) data."""
    prefect_env.configure()
    from flows.runtime import resolve_period

    try:
        period = resolve_period(period)
    except ValueError as exc:
        _fail(str(exc), "give the month as --period 2025-08 (or --period previous)")
    if quiet:
        import os

        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    from flows.monthly import monthly_flow
    from flows.report import print_failure, print_summary
    from flows.runtime import Progress, configure_flow, set_progress, task_runner_for
    from flows.settings import load_settings

    set_progress(Progress(quiet=quiet))
    try:
        settings = load_settings(storage_root=storage_root)
        runner = task_runner_for(
            task_runner or settings.task_runner, dask_address or settings.dask_address or None
        )
        flow = configure_flow(monthly_flow, settings, runner)
        summary = flow(period=period, storage_root=storage_root, deliver=deliver, lang=lang)
    except Exception as exc:
        raise typer.Exit(print_failure(exc, "run")) from None
    raise typer.Exit(print_summary(summary, quiet=quiet))


def main() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(app)
    try:
        app(prog_name="produktivitas")
    finally:
        # Interpreter shutdown runs full garbage collections over the ~240k objects a run leaves
        # (pandas, pyarrow, Prefect, pydantic): ~1 s of a warm Kaltim month, to free memory the ending
        # process gives back anyway. Frozen objects are skipped by those collections; atexit
        # handlers (Prefect's log and event workers) and refcount finalisers still run.
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
