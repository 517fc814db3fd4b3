"""``produktivitas bps-vars``: find BPS dynamic tables by keyword (the var list is paginated).

BPS publishes no var id for several tables this project needs (employed persons by province,
average hours worked): a data engineer finds them with this command and pins the id in the
dataset catalogue (``schemas/bps_catalogue.py``).
"""

from __future__ import annotations

from typing import Annotated

import typer


def bps_vars(
    keyword: Annotated[str, typer.Option(help="Search text, e.g. 'bekerja', 'jam kerja', 'pdrb'.")],
    domain: Annotated[str, typer.Option(help="BPS domain: 0000 national, 6400 Kalimantan Timur.")] = "0000",
) -> None:
    """List BPS dynamic tables (var id, title, unit) whose title matches KEYWORD. Needs BPS_API_KEY."""
    from flows.settings import load_settings
    from tasks.bps_client import BpsApiError, BpsClient

    settings = load_settings()
    if not settings.bps_api_key:
        typer.secho("error: BPS_API_KEY is not set", fg=typer.colors.RED, err=True)
        typer.echo(
            "what to do: export BPS_API_KEY=<your key from webapi.bps.go.id>, then run this again", err=True
        )
        raise typer.Exit(2)
    try:
        with BpsClient(
            settings.bps_base_url,
            settings.bps_api_key,
            timeout=settings.bps_timeout_seconds,
            retries=settings.bps_retries,
            backoff=settings.bps_backoff_seconds,
        ) as client:
            items = client.find_vars(domain, keyword)
    except BpsApiError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    for it in items:
        typer.echo(f"{it.get('var_id')}\t{it.get('title', '')}\t[{it.get('unit', '')}]")
    typer.echo(f"{len(items)} table(s) on domain {domain} match {keyword!r}", err=True)


def register(app: typer.Typer) -> None:
    app.command("bps-vars")(bps_vars)
