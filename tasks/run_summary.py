"""The run summary: a JSON file per run and Prefect artifacts with the same facts."""

from __future__ import annotations

import json
from typing import Any

from tasks.logs import get_logger
from tasks.storage import Storage


def summary_markdown(summary: dict[str, Any]) -> str:
    lines = [
        f"# produktivitas run {summary['period']}",
        "",
        f"- run id: `{summary['run_id']}`",
        f"- storage: `{summary['storage_root']}`",
        f"- started {summary['started_at']}, finished {summary.get('finished_at', '')}",
        "",
    ]
    for name, st in summary["stages"].items():
        lines.append(f"## {name}")
        for k, v in st.items():
            if k in ("notices", "tables", "diagnostics"):
                continue
            lines.append(f"- {k}: {v}")
        for d in st.get("diagnostics", []):
            lines.append(f"- diagnostic: {d}")
        lines.append("")
    if summary.get("notices"):
        lines += ["## Notices", *[f"- {n}" for n in summary["notices"]], ""]
    return "\n".join(lines)


def publish_run_summary(storage: Storage, summary: dict[str, Any]) -> str:
    rel = f"processed/runs/{summary['run_id']}.json"
    storage.write_text(rel, json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True, default=str))
    try:
        from prefect.artifacts import create_markdown_artifact, create_table_artifact
        from prefect.context import FlowRunContext

        if FlowRunContext.get():
            create_markdown_artifact(
                key=f"run-summary-{summary['period']}",
                markdown=summary_markdown(summary),
                description=f"produktivitas run summary {summary['period']}",
            )
            for st in summary["stages"].values():
                for key, table in st.get("tables", {}).items():
                    create_table_artifact(key=key, table=table, description=key)
    except Exception as exc:  # artifacts are a view; the JSON file above is the record
        get_logger().warning("could not publish Prefect artifacts: %s", exc)
    return storage.url(rel)
