"""The ``produktivitas`` command.

Prefect and the heavy libraries are imported inside the commands, after Prefect's environment is
configured (``flows.prefect_env``), so ``produktivitas --help`` is instant.
"""

from __future__ import annotations

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
_COMMAND_MODULES: tuple[str, ...] = ("flows.cli_submissions", "flows.cli_bulletin")


@app.callback()
def _root() -> None:
    """produktivitas: labour-productivity pipeline for Disnakertrans Kalimantan Timur."""


def _fail(msg: str, hint: str) -> None:
    typer.secho(f"error: {msg}", fg=typer.colors.RED, err=True)
    typer.secho(f"what to do: {hint}", err=True)
    raise typer.Exit(2)


@app.command()
def run(
    period: Annotated[str, typer.Option(help="Month to process, YYYY-MM.")] = "2025-08",
    storage_root: Annotated[
        str | None, typer.Option(help="Data root (path or s3:// URL); default ./data.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and the final line.")] = False,
) -> None:
    """Run the monthly flow for one period on the configured (by default the bundled) data."""
    prefect_env.configure()
    from flows.monthly import check_period

    try:
        check_period(period)
    except ValueError as exc:
        _fail(str(exc), "give the month as --period 2025-08")
    if quiet:
        import os

        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    from flows.monthly import monthly_flow

    summary = monthly_flow(period=period, storage_root=storage_root)
    from flows.report import print_summary

    code = print_summary(summary, quiet=quiet)
    raise typer.Exit(code)


def main() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(app)
    app(prog_name="produktivitas")


if __name__ == "__main__":
    sys.exit(main())
