"""``produktivitas bulletin``: re-render (and deliver) one period's bulletin from the Parquet outputs."""

from __future__ import annotations

from typing import Annotated

import typer

from flows import prefect_env

Period = Annotated[str, typer.Option(help="Month, YYYY-MM.")]
StorageRoot = Annotated[str | None, typer.Option(help="Data root (path or s3:// URL); default ./data.")]


def register(app: typer.Typer) -> None:
    @app.command()
    def bulletin(
        period: Period = "2025-08",
        lang: Annotated[
            str | None, typer.Option(help="Language of the bulletin: id (default) or en.")
        ] = None,
        deliver: Annotated[
            bool, typer.Option("--deliver/--no-deliver", help="Send (or write to the outbox).")
        ] = True,
        storage_root: StorageRoot = None,
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

    @app.command()
    def documents(
        period: Period = "2025-08",
        nib: Annotated[
            str | None, typer.Option(help="The company (13-digit NIB) whose report and receipt to write out.")
        ] = None,
        all_: Annotated[
            bool, typer.Option("--all", help="Write out every report and receipt of the period.")
        ] = False,
        out: Annotated[str, typer.Option(help="Local folder to write the HTML files into.")] = ".",
        storage_root: StorageRoot = None,
    ) -> None:
        """Write a company's confidential report and receipt (or all of a period's) out as HTML files.

        Every period keeps them in Parquet (companies/reports.parquet, receipts.parquet); only periods
        below 5,000 companies also get a file each (the company_documents setting).
        """
        from flows.monthly import check_period
        from flows.settings import load_settings
        from tasks.documents import export_company, export_period
        from tasks.storage import Storage

        try:
            check_period(period)
            if (nib is None) == (not all_):
                raise ValueError("give either --nib <13-digit NIB> or --all")
        except ValueError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            typer.secho(
                "what to do: e.g. produktivitas documents --period 2025-08 --nib 9120000000001", err=True
            )
            raise typer.Exit(2) from None
        storage = Storage(load_settings(storage_root=storage_root).storage_root)
        if nib is None:
            counts = export_period(storage, period, out)
            if not counts:
                typer.secho(f"error: no reports or receipts kept for {period} under {storage.url('processed')}",
                            fg=typer.colors.RED, err=True)  # fmt: skip
                typer.secho(
                    f"what to do: run the period first (produktivitas run --period {period})", err=True
                )
                raise typer.Exit(1)
            for folder, n in counts.items():
                typer.echo(f"wrote {n} files into {folder}")
            return
        wrote = export_company(storage, period, nib, out)
        if not wrote:
            typer.secho(
                f"error: no report or receipt for NIB {nib} in {period}", fg=typer.colors.RED, err=True
            )
            typer.secho(
                "what to do: check the NIB (13 digits, as submitted) and the period; a company whose every row "
                "was rejected has a receipt but no report",
                err=True,
            )
            raise typer.Exit(1)
        for p in wrote:
            typer.echo(f"wrote {p}")
