"""CLI commands for company submissions: ``produktivitas template`` and ``produktivitas sample-data``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("template")
    def template(
        out: Annotated[Path, typer.Option(help="Folder to write the XLSX template and the CSV into.")] = Path(
            "template"
        ),
    ) -> None:
        """Write the submission template (XLSX with instructions, dropdowns; and an equivalent CSV)."""
        from tasks.template_workbook import write_template

        for p in write_template(out):
            typer.echo(f"wrote {p}")

    @app.command("sample-data")
    def sample_data(
        period: Annotated[str, typer.Option(help="Month, YYYY-MM.")] = "2025-08",
        companies: Annotated[int, typer.Option(help="Number of synthetic companies.")] = 23,
        seed: Annotated[int, typer.Option(help="Random seed (same seed -> same files).")] = 2025,
        kabkota: Annotated[
            int, typer.Option(help="How many Kaltim kab/kota to spread them over (1-10).")
        ] = 9,
        bulk_share: Annotated[
            float, typer.Option(help="Share of companies in multi-company CSV exports.")
        ] = 0.45,
        mistakes: Annotated[bool, typer.Option(help="Plant a few realistic mistakes.")] = True,
        out: Annotated[Path, typer.Option(help="Folder holding the period folders.")] = Path(
            "data/raw/submissions"
        ),
        force: Annotated[bool, typer.Option(help="Overwrite files already in the period folder.")] = False,
    ) -> None:
        """Generate SYNTHETIC company submissions (marked SINTETIS) for one period."""
        from flows.monthly import check_period

        try:
            check_period(period)
        except ValueError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        from tasks.sample_data import generate_period

        try:
            g = generate_period(period, companies, seed, kabkota, mistakes, bulk_share, out, overwrite=force)
        except FileExistsError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        typer.echo(f"wrote {len(g.files)} synthetic file(s), {g.companies} companies, into {out / period}")
        for m, nibs in g.mistakes.items():
            if nibs:
                typer.echo(f"  planted {m}: {', '.join(nibs[:5])}{' ...' if len(nibs) > 5 else ''}")
