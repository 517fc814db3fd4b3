"""What a person at the terminal sees at the end of a run or a backfill, and what to do when it failed."""

from __future__ import annotations

from typing import Any

import typer

MAX_OUTPUTS_SHOWN = 8


def _facts(summary: dict[str, Any]) -> dict[str, Any]:
    from tasks.run_summary import run_facts

    return summary.get("facts") or run_facts(summary)


def print_summary(summary: dict[str, Any], quiet: bool = False) -> int:
    """Print a short summary; return the exit status (non-zero only when a stage could read nothing)."""
    notices = summary.get("notices", [])
    facts = _facts(summary)
    if not quiet:
        typer.echo("")
        typer.echo(f"produktivitas {summary['period']} - run {summary['run_id']}")
        for i in facts["inputs"]:
            typer.echo(f"  input {i.get('name', '')}: {i.get('source', '')} (vintage {i.get('vintage', '')})")
        for name, st in summary["stages"].items():
            typer.echo(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in (st.get("counts") or {}).items()))
            outs = st.get("outputs", []) or []
            for o in outs[:MAX_OUTPUTS_SHOWN]:
                typer.echo(f"    wrote {o}")
            if len(outs) > MAX_OUTPUTS_SHOWN:
                # receipts and company reports are one file per company: list them in the run record only
                typer.echo(f"    ... and {len(outs) - MAX_OUTPUTS_SHOWN} more (listed in the run record)")
        typer.echo(
            f"  rows accepted {facts['rows_accepted']}, quarantined {facts['rows_quarantined']}; "
            f"indicator files {len(facts['indicators_written'])}; bulletins {len(facts['bulletins'])}; "
            f"messages sent {facts['messages_sent']}, outbox {facts['messages_outbox']}"
        )
        typer.echo(f"  run record: processed/runs/{summary['run_id']}.json under {summary['storage_root']}")
    for n in notices:
        typer.secho(f"  notice: {n}", fg=typer.colors.YELLOW)
    status = 0
    for name, st in summary["stages"].items():
        if st.get("fatal"):
            typer.secho(f"  failed: {name}: {st['fatal']}", fg=typer.colors.RED, err=True)
            status = 1
    if status:
        typer.secho(
            "what to do: fix the input named above, then re-run this month with "
            f"`produktivitas run --period {summary['period']}` (a re-run replaces its outputs).",
            err=True,
        )
    typer.echo(f"done: {summary['period']} {facts['status']} ({len(notices)} notice(s))")
    return status


def backfill_rows(results: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One row per period for the backfill table: status, rows, outputs, notices."""
    rows = []
    for r in results:
        s = r.get("summary") or {}
        facts = _facts(s) if s else {}
        rows.append(
            {
                "period": r["period"],
                "status": r.get("status", facts.get("status", "")),
                "accepted": str(facts.get("rows_accepted", "")),
                "quarantined": str(facts.get("rows_quarantined", "")),
                "outputs": str(facts.get("outputs", "")),
                "notices": str(facts.get("notices", "")),
                "note": r.get("note", ""),
            }
        )
    return rows


def format_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    line = "  ".join(c.ljust(width[c]) for c in cols).rstrip()
    sep = "  ".join("-" * width[c] for c in cols)
    body = ["  ".join(r[c].ljust(width[c]) for c in cols).rstrip() for r in rows]
    return "\n".join([line, sep, *body])


def print_backfill(results: list[dict[str, Any]], quiet: bool = False) -> int:
    """The table at the end of a backfill; exit status 1 when any period failed."""
    failed = [r for r in results if r.get("status") == "failed"]
    if not quiet:
        typer.echo("")
        typer.echo(format_table(backfill_rows(results)))
    for r in failed:
        typer.secho(f"  failed: {r['period']}: {r.get('error', '')}", fg=typer.colors.RED, err=True)
    if failed:
        first = failed[0]["period"]
        typer.secho(
            f"what to do: read the error and the run log, fix the cause, then re-run the failed months, e.g. "
            f"`produktivitas backfill --from {first} --to {failed[-1]['period']}` (completed months can be "
            "re-run safely: outputs are replaced, delivered e-mails are not sent again).",
            err=True,
        )
    typer.echo(f"backfill: {len(results) - len(failed)} of {len(results)} month(s) completed")
    return 1 if failed else 0


def hint_for(exc: BaseException) -> str:
    """What to do next for the errors a person can act on."""
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, FileNotFoundError) or "No such file" in text:
        return (
            "check --storage-root (or PRODUKTIVITAS_STORAGE_ROOT) points at the data folder with raw/ inside."
        )
    if isinstance(exc, PermissionError):
        return "the storage root is not writable for this user; fix its permissions or choose another root."
    if "NoCredentials" in name or "credentials" in text.lower() or "AccessDenied" in text:
        return (
            "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for a non-AWS S3 server) "
            "or storage options in produktivitas.toml."
        )
    if "Timed out while attempting to connect" in text or "PREFECT_API_URL" in text:
        return "start the Prefect server (`prefect server start`) and set PREFECT_API_URL, or unset it for a local run."
    if isinstance(exc, ValueError) and any(w in text for w in ("period", "YYYY-MM", "--from")):
        return "give months as YYYY-MM, e.g. --period 2025-08 or --from 2025-01 --to 2025-08."
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return "check the network; BPS data falls back to the stored snapshot, other services need to be reachable."
    return "read the run log above (or in the Prefect UI), fix the cause and re-run the same command."


def print_failure(exc: BaseException, what: str = "run") -> int:
    typer.secho(f"error: {what} failed: {type(exc).__name__}: {exc}", fg=typer.colors.RED, err=True)
    typer.secho(f"what to do: {hint_for(exc)}", err=True)
    return 2
