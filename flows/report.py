"""What a person at the terminal sees at the end of a run."""

from __future__ import annotations

from typing import Any

import typer


def print_summary(summary: dict[str, Any], quiet: bool = False) -> int:
    """Print a short summary; return the exit status (non-zero only when nothing could be read)."""
    notices = summary.get("notices", [])
    if not quiet:
        typer.echo("")
        typer.echo(f"produktivitas {summary['period']} - run {summary['run_id']}")
        for name, st in summary["stages"].items():
            outs = st.get("outputs", [])
            typer.echo(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in st.get("counts", {}).items()))
            for o in outs:
                typer.echo(f"    wrote {o}")
        typer.echo(f"  run record: processed/runs/{summary['run_id']}.json under {summary['storage_root']}")
    for n in notices:
        typer.secho(f"  notice: {n}", fg=typer.colors.YELLOW)
    status = 0
    for st in summary["stages"].values():
        if st.get("fatal"):
            typer.secho(f"  failed: {st['fatal']}", fg=typer.colors.RED, err=True)
            status = 1
    typer.echo(f"done: {summary['period']} ({len(notices)} notice(s))")
    return status
