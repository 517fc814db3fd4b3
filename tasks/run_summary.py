"""The run summary: a JSON file per run and Prefect artifacts with the same facts.

A stage's summary (see docs/CONTRIBUTING.md) has ``counts``, ``outputs``, ``notices``,
``diagnostics``, optional ``tables`` and ``fatal``; it may also carry ``inputs``: a list of
``{"name", "source", "vintage", "rows"}`` saying what it read and how fresh that was (e.g. the BPS
stage: WebAPI response of today or the stored snapshot of 2024); the BPS stage's ``vintages``
(``{dataset: vintage}``) and ``data_source`` are read the same way. :func:`run_facts` condenses all
stages into the facts a person asks first; the JSON record, the Markdown artifact and the terminal
summary all show those same facts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tasks.logs import get_logger
from tasks.storage import Storage

RUNS_DIR = "processed/runs"
PROVINCIAL_REL = "processed/indicators/provincial_productivity.parquet"
# Province of the office and the national figure it is compared with (BPS codes, strings).
KEY_REGIONS = ("64", "00")
KEY_YEARS = 3
KEY_COLUMNS = (
    "year",
    "region_code",
    "region_name",
    "boundary",
    "grdp_adhk2010_billion_idr",
    "employed_persons",
    "productivity_million_idr_per_worker",
    "status",
)


def _count_sum(stages: dict[str, dict[str, Any]], *needles: str) -> int:
    """Sum of integer counts whose key contains any of ``needles`` (stages name their counts freely)."""
    total = 0
    for st in stages.values():
        for k, v in (st.get("counts") or {}).items():
            if isinstance(v, int) and not isinstance(v, bool) and any(n in k for n in needles):
                total += v
    return total


def run_facts(summary: dict[str, Any]) -> dict[str, Any]:
    """The headline facts of a run, derived from the stage summaries."""
    stages: dict[str, dict[str, Any]] = summary.get("stages", {})
    outputs = [o for st in stages.values() for o in st.get("outputs", []) or []]
    failed = {name: st["fatal"] for name, st in stages.items() if st.get("fatal")}
    notices = summary.get("notices") or [n for st in stages.values() for n in st.get("notices", []) or []]
    inputs = [dict(i, stage=name) for name, st in stages.items() for i in st.get("inputs", []) or []]
    # The BPS stage reports {dataset: vintage} plus where the fetched table came from (webapi/snapshot).
    for name, st in stages.items():
        for ds, vintage in (st.get("vintages") or {}).items():
            inputs.append(
                {"stage": name, "name": ds, "source": st.get("data_source", ""), "vintage": vintage}
            )
    return {
        "status": "failed" if failed else ("completed with notices" if notices else "completed"),
        "failed_stages": failed,
        "inputs": inputs,
        "rows_accepted": _count_sum(stages, "accepted"),
        "rows_quarantined": _count_sum(stages, "quarantine", "rejected"),
        "indicators_written": [o for o in outputs if "/indicators/" in o],
        "bulletins": [o for o in outputs if "/bulletins/" in o],
        "messages_sent": _count_sum(stages, "sent"),
        "messages_outbox": _count_sum(stages, "outbox"),
        "outputs": len(outputs),
        "notices": len(notices),
    }


def summary_markdown(summary: dict[str, Any]) -> str:
    facts = summary.get("facts") or run_facts(summary)
    lines = [
        f"# produktivitas run {summary['period']}: {facts['status']}",
        "",
        f"- run id: `{summary['run_id']}`",
        f"- storage: `{summary['storage_root']}`",
        f"- started {summary.get('started_at', '')}, finished {summary.get('finished_at', '')}",
        f"- rows accepted: {facts['rows_accepted']}, quarantined: {facts['rows_quarantined']}",
        f"- indicator files written: {len(facts['indicators_written'])}",
        f"- bulletins: {len(facts['bulletins'])}, messages sent: {facts['messages_sent']}, "
        f"in outbox: {facts['messages_outbox']}",
        "",
    ]
    if facts["inputs"]:
        lines += ["## Inputs", "", "| stage | input | source | vintage | rows |", "|---|---|---|---|---|"]
        for i in facts["inputs"]:
            lines.append(
                f"| {i.get('stage', '')} | {i.get('name', '')} | {i.get('source', '')} "
                f"| {i.get('vintage', '')} | {i.get('rows', '')} |"
            )
        lines.append("")
    for name, st in summary["stages"].items():
        lines.append(f"## {name}")
        if st.get("fatal"):
            lines.append(f"- **failed**: {st['fatal']}")
        counts = st.get("counts") or {}
        if counts:
            lines.append("- " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
        for o in st.get("outputs", []) or []:
            lines.append(f"- wrote `{o}`")
        for d in st.get("diagnostics", []) or []:
            lines.append(f"- diagnostic: {d}")
        lines.append("")
    if summary.get("notices"):
        lines += ["## Notices", *[f"- {n}" for n in summary["notices"]], ""]
    return "\n".join(lines)


def artifact_key(text: str) -> str:
    """Prefect artifact keys allow only lowercase letters, digits and dashes."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-") or "table"


def provincial_key_rows(storage: Storage, rel: str = PROVINCIAL_REL) -> list[dict[str, Any]]:
    """Kaltim and Indonesia in the latest years of the provincial result, for the table artifact."""
    if not storage.exists(rel):
        return []
    from tasks.parquet_io import read_frame

    df = read_frame(storage, rel)
    if "region_code" not in df.columns or "year" not in df.columns:
        return []
    df = df[df["region_code"].astype(str).isin(KEY_REGIONS)]
    years = sorted(df["year"].unique())[-KEY_YEARS:]
    df = df[df["year"].isin(years)].sort_values(["year", "region_code"], ascending=[False, False])
    cols = [c for c in KEY_COLUMNS if c in df.columns]
    # JSON-able plain values: numpy scalars and pandas NA do not serialise.
    return json.loads(df[cols].to_json(orient="records"))


def publish_run_summary(storage: Storage, summary: dict[str, Any]) -> str:
    """Write ``processed/runs/<run-id>.json`` and publish the Markdown and table artifacts; return the JSON URL."""
    summary["facts"] = run_facts(summary)
    key_rows: list[dict[str, Any]] = []
    try:
        key_rows = provincial_key_rows(storage)
    except Exception as exc:  # a summary must not fail the run it describes
        get_logger().warning("could not read the provincial result for the summary: %s", exc)
    summary["provincial_key_rows"] = key_rows
    rel = f"{RUNS_DIR}/{summary['run_id']}.json"
    storage.write_text(rel, json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True, default=str))
    try:
        from prefect.artifacts import create_markdown_artifact, create_table_artifact
        from prefect.context import FlowRunContext

        if FlowRunContext.get():
            create_markdown_artifact(
                key=artifact_key(f"run-summary-{summary['period']}"),
                markdown=summary_markdown(summary),
                description=f"produktivitas run summary {summary['period']}",
            )
            stage_tables = {
                artifact_key(k) for st in summary["stages"].values() for k in st.get("tables") or {}
            }
            if key_rows and "provincial-productivity" not in stage_tables:
                create_table_artifact(
                    key="provincial-productivity",
                    table=key_rows,
                    description="Labour productivity, Kalimantan Timur and Indonesia, latest years",
                )
            for st in summary["stages"].values():
                for key, table in (st.get("tables") or {}).items():
                    create_table_artifact(key=artifact_key(key), table=table, description=key)
    except Exception as exc:  # artifacts are a view; the JSON file above is the record
        get_logger().warning("could not publish Prefect artifacts: %s", exc)
    return storage.url(rel)
