"""Run summary facts, the JSON record, the Prefect artifacts and the terminal summary."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from flows.report import format_table, hint_for, print_backfill, print_summary
from tasks.parquet_io import write_table
from tasks.run_summary import (
    PROVINCIAL_REL,
    artifact_key,
    provincial_key_rows,
    publish_run_summary,
    run_facts,
    summary_markdown,
)
from tasks.storage import Storage


def make_summary(root: str, fatal: str = "") -> dict:
    return {
        "run_id": "run-123",
        "period": "2025-08",
        "storage_root": root,
        "started_at": "2025-09-04T23:00:00+00:00",
        "finished_at": "2025-09-04T23:01:00+00:00",
        "stages": {
            "bps": {
                "counts": {"grdp_rows": 40, "provincial_rows": 12},
                "outputs": [f"{root}/processed/indicators/provincial_productivity.parquet"],
                "notices": ["Data BPS tidak diambil dari WebAPI; memakai snapshot."],
                "diagnostics": ["2024 is preliminary"],
                "data_source": "snapshot",
                "vintages": {"grdp_var533": "bundled snapshot: 2024Q2"},
                "tables": {"provincial-productivity": [{"year": 2024, "region_code": "64"}]},
            },
            "submissions": {
                "counts": {"files": 3, "accepted_rows": 10, "quarantined_rows": 2},
                "outputs": [f"{root}/processed/submissions/period=2025-08/part-0.parquet"],
                "notices": [],
                "inputs": [
                    {
                        "name": "raw/submissions/2025-08",
                        "source": "companies",
                        "vintage": "2025-09-01",
                        "rows": 12,
                    }
                ],
                **({"fatal": fatal} if fatal else {}),
            },
            "bulletin": {
                "counts": {"messages_sent": 3, "messages_outbox": 1},
                "outputs": [f"{root}/processed/bulletins/2025-08/buletin.html"],
            },
        },
        "notices": ["Data BPS tidak diambil dari WebAPI; memakai snapshot."],
    }


def test_run_facts_condense_the_stages(tmp_path):
    facts = run_facts(make_summary(str(tmp_path)))
    assert facts["status"] == "completed with notices"
    assert facts["rows_accepted"] == 10 and facts["rows_quarantined"] == 2
    assert facts["messages_sent"] == 3 and facts["messages_outbox"] == 1
    assert facts["indicators_written"] == [f"{tmp_path}/processed/indicators/provincial_productivity.parquet"]
    assert facts["bulletins"] == [f"{tmp_path}/processed/bulletins/2025-08/buletin.html"]
    names = {(i["stage"], i["name"], i["source"], i["vintage"]) for i in facts["inputs"]}
    assert ("bps", "grdp_var533", "snapshot", "bundled snapshot: 2024Q2") in names
    assert ("submissions", "raw/submissions/2025-08", "companies", "2025-09-01") in names
    failed = run_facts(make_summary(str(tmp_path), fatal="no file could be read"))
    assert failed["status"] == "failed" and failed["failed_stages"] == {
        "submissions": "no file could be read"
    }


def test_markdown_names_inputs_rows_and_notices(tmp_path):
    md = summary_markdown(make_summary(str(tmp_path)))
    assert md.startswith("# produktivitas run 2025-08: completed with notices")
    assert "| bps | grdp_var533 | snapshot | bundled snapshot: 2024Q2 |" in md
    assert "rows accepted: 10, quarantined: 2" in md
    assert "messages sent: 3, in outbox: 1" in md
    assert "- Data BPS tidak diambil dari WebAPI; memakai snapshot." in md
    assert "diagnostic: 2024 is preliminary" in md


def test_artifact_keys_are_valid():
    assert artifact_key("Run Summary 2025_08") == "run-summary-2025-08"
    assert artifact_key("provincial-productivity") == "provincial-productivity"


def _write_provincial(storage: Storage) -> None:
    import pyarrow as pa

    rows = [
        (y, code, name, 100.0 + y - 2019 if code != "65" else 1.0)
        for y in range(2019, 2025)
        for code, name in (("00", "Indonesia"), ("64", "Kalimantan Timur"), ("65", "Kalimantan Utara"))
    ]
    df = pd.DataFrame(
        rows, columns=["year", "region_code", "region_name", "productivity_million_idr_per_worker"]
    )
    df.loc[(df["year"] == 2024) & (df["region_code"] == "00"), "productivity_million_idr_per_worker"] = (
        math.nan
    )
    write_table(storage, PROVINCIAL_REL, pa.Table.from_pandas(df, preserve_index=False))


def test_provincial_key_rows_latest_years_of_kaltim_and_indonesia(tmp_path):
    storage = Storage(tmp_path)
    assert provincial_key_rows(storage) == []
    _write_provincial(storage)
    rows = provincial_key_rows(storage)
    assert [(r["year"], r["region_code"]) for r in rows] == [
        (2024, "64"), (2024, "00"), (2023, "64"), (2023, "00"), (2022, "64"), (2022, "00"),
    ]  # fmt: skip
    assert rows[0]["productivity_million_idr_per_worker"] == 105.0
    assert rows[1]["productivity_million_idr_per_worker"] is None
    json.dumps(rows)  # plain JSON values


def test_publish_writes_the_run_record_outside_a_flow(tmp_path):
    storage = Storage(tmp_path)
    _write_provincial(storage)
    url = publish_run_summary(storage, make_summary(storage.root))
    assert url == f"{storage.root}/processed/runs/run-123.json"
    record = json.loads(storage.read_text("processed/runs/run-123.json"))
    assert record["facts"]["rows_accepted"] == 10
    assert record["facts"]["status"] == "completed with notices"
    assert len(record["provincial_key_rows"]) == 6


@pytest.mark.flow
def test_artifacts_published_inside_a_flow(tmp_path, prefect_harness):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    storage = Storage(tmp_path)
    _write_provincial(storage)
    summary = make_summary(storage.root)
    summary["stages"]["bps"].pop("tables")  # the summary falls back to the provincial Parquet

    @flow(name="summary-artifacts-test")
    def publish() -> str:
        return publish_run_summary(storage, summary)

    state = publish(return_state=True)
    # the harness's database is shared by the whole session: other flows publish the same keys
    this_run = ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
    with get_client(sync_client=True) as client:
        md = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["run-summary-2025-08"]), flow_run_id=this_run
            )
        )
        table = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["provincial-productivity"]), flow_run_id=this_run
            )
        )
    assert md and "rows accepted: 10, quarantined: 2" in md[0].data
    assert table and table[0].type == "table"
    rows = table[0].data if isinstance(table[0].data, list) else json.loads(table[0].data)
    assert {r["region_code"] for r in rows} == {"64", "00"}


# --- the terminal ----------------------------------------------------------------------------------
def test_print_summary_full_and_quiet(tmp_path, capsys):
    s = make_summary(str(tmp_path))
    assert print_summary(s) == 0
    out = capsys.readouterr().out
    assert "produktivitas 2025-08 - run run-123" in out
    assert "submissions: files=3, accepted_rows=10, quarantined_rows=2" in out
    assert "input grdp_var533: snapshot (vintage bundled snapshot: 2024Q2)" in out
    assert "notice: Data BPS" in out
    assert out.rstrip().endswith("done: 2025-08 completed with notices (1 notice(s))")
    assert print_summary(s, quiet=True) == 0
    quiet = capsys.readouterr().out
    assert "submissions:" not in quiet and "notice: Data BPS" in quiet and "done: 2025-08" in quiet


def test_print_summary_failure_says_what_to_do(tmp_path, capsys):
    assert print_summary(make_summary(str(tmp_path), fatal="no file could be read"), quiet=True) == 1
    err = capsys.readouterr().err
    assert "failed: submissions: no file could be read" in err
    assert "what to do:" in err and "produktivitas run --period 2025-08" in err


def test_backfill_table_and_failures(tmp_path, capsys):
    ok = {"period": "2025-07", "status": "completed", "summary": make_summary(str(tmp_path)), "note": ""}
    ok["summary"]["period"] = "2025-07"
    bad = {
        "period": "2025-08",
        "status": "failed",
        "error": "storage not writable",
        "note": "no submissions: BPS part only",
    }
    assert print_backfill([ok, bad]) == 1
    cap = capsys.readouterr()
    lines = cap.out.strip().splitlines()
    assert lines[0].split()[:3] == ["period", "status", "accepted"]
    assert lines[2].split()[:3] == ["2025-07", "completed", "10"]
    assert lines[3].startswith("2025-08") and "no submissions: BPS part only" in lines[3]
    assert lines[-1] == "backfill: 1 of 2 month(s) completed"
    assert "failed: 2025-08: storage not writable" in cap.err
    assert "produktivitas backfill --from 2025-08 --to 2025-08" in cap.err
    assert print_backfill([ok], quiet=True) == 0
    assert capsys.readouterr().out.strip() == "backfill: 1 of 1 month(s) completed"


def test_format_table_aligns_columns():
    text = format_table([{"a": "1", "bb": "x"}, {"a": "100", "bb": "yy"}])
    assert text.splitlines() == ["a    bb", "---  --", "1    x", "100  yy"]


@pytest.mark.parametrize(
    ("exc", "needle"),
    [
        (FileNotFoundError("data/raw missing"), "--storage-root"),
        (PermissionError("denied"), "permissions"),
        (ValueError("period must be YYYY-MM"), "YYYY-MM"),
        (RuntimeError("NoCredentialsError: Unable to locate credentials"), "AWS_ACCESS_KEY_ID"),
        (
            RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server"),
            "prefect server start",
        ),
        (RuntimeError("anything else"), "re-run"),
    ],
)
def test_hints_say_what_to_do(exc, needle):
    assert needle in hint_for(exc)
