"""``produktivitas bulletin``: re-render (and deliver) one period's bulletin from the Parquet outputs."""

from __future__ import annotations

from typing import Annotated

import typer

from flows import prefect_env


def register(app: typer.Typer) -> None:
    @app.command()
    def bulletin(
        period: Annotated[str, typer.Option(help="Month, YYYY-MM.")] = "2025-08",
        lang: Annotated[
            str | None, typer.Option(help="Language of the bulletin: id (default) or en.")
        ] = None,
        deliver: Annotated[
            bool, typer.Option("--deliver/--no-deliver", help="Send (or write to the outbox).")
        ] = True,
        storage_root: Annotated[
            str | None, typer.Option(help="Data root (path or s3:// URL); default ./data.")
        ] = None,
    ) -> None:
        """Render the bulletin, company reports and archive for one period from the Parquet outputs."""
        prefect_env.configure()
        from datetime import UTC, datetime

        from flows.monthly import check_period
        from flows.settings import load_settings
        from tasks.formatting import check_lang

        try:
            check_period(period)
            lang_checked = check_lang(lang) if lang else None
        except ValueError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            typer.secho("what to do: give --period 2025-08 and --lang id or en", err=True)
            raise typer.Exit(2) from None
        from flows.stage_bulletin import bulletin_stage

        settings = load_settings(storage_root=storage_root)
        summary = bulletin_stage(
            settings=settings,
            storage_root=settings.storage_root,
            period=period,
            run_id=datetime.now(UTC).strftime("bulletin-%Y%m%dT%H%M%S"),
            deliver=deliver,
            lang=lang_checked,
        )
        typer.echo("bulletin: " + ", ".join(f"{k}={v}" for k, v in summary["counts"].items()))
        for o in summary["outputs"]:
            if o.endswith(("bulletin.html", "index.html")):
                typer.echo(f"  wrote {o}")
        for n in summary["notices"]:
            typer.secho(f"  notice: {n}", fg=typer.colors.YELLOW)
