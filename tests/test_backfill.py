"""Backfill: months in order, a failed month does not stop the rest, a re-run replaces outputs exactly."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from flows import backfill as backfill_mod
from flows.runtime import Progress, get_progress, set_progress
from tasks.parquet_io import file_metadata, read_frame
from tasks.storage import Storage


@pytest.fixture
def progress_buffer():
    before = get_progress()
    buf = io.StringIO()
    set_progress(Progress(quiet=False, stream=buf))
    yield buf
    set_progress(before)


@pytest.mark.flow
def test_backfill_runs_months_in_order_and_survives_a_failed_month(
    prefect_harness, tmp_path, monkeypatch, progress_buffer
):
    from prefect import flow

    seen: list[str] = []
    (tmp_path / "raw/submissions/2025-02").mkdir(parents=True)
    (tmp_path / "raw/submissions/2025-02/pt-a.csv").write_text("nib\n1\n")

    @flow(name="fake-monthly")
    def fake_monthly(period: str, storage_root: str | None = None, deliver: bool = True) -> dict:
        seen.append(period)
        if period == "2025-03":
            raise RuntimeError("disk full")
        return {
            "run_id": f"r-{period}",
            "period": period,
            "storage_root": storage_root,
            "stages": {"bps": {"counts": {"grdp_rows": 40}, "outputs": [], "notices": []}},
            "notices": [],
        }

    monkeypatch.setattr(backfill_mod, "load_monthly_flow", lambda: fake_monthly)
    monkeypatch.setattr(backfill_mod, "configure_flow", lambda f, settings, runner: f)
    out = backfill_mod.backfill_flow(
        start="2025-01", end="2025-04", storage_root=str(tmp_path), deliver=False
    )
    assert seen == ["2025-01", "2025-02", "2025-03", "2025-04"]
    status = {r["period"]: r["status"] for r in out["results"]}
    assert status == {
        "2025-01": "completed",
        "2025-02": "completed",
        "2025-03": "failed",
        "2025-04": "completed",
    }
    failed = next(r for r in out["results"] if r["period"] == "2025-03")
    assert "disk full" in failed["error"]
    notes = {r["period"]: r["note"] for r in out["results"]}
    assert notes["2025-02"] == "" and notes["2025-01"] == "no submissions: BPS part only"
    lines = progress_buffer.getvalue().splitlines()
    assert lines[0] == "[1/4] 2025-01: starting"
    assert "    2025-01: no company submissions in raw/submissions/2025-01/; BPS part only" in lines
    assert "    2025-01 bps: done (grdp_rows=40)" in lines
    assert any(line.startswith("    2025-03: FAILED") and "disk full" in line for line in lines)


def parquet_snapshot(root: Path) -> dict[str, tuple[pd.DataFrame, str]]:
    """Every Parquet output under processed/ (rows and values, plus the run id in its metadata)."""
    storage = Storage(root)
    out = {}
    for rel in storage.walk_files("processed", "*.parquet"):
        out[rel] = (read_frame(storage, rel), file_metadata(storage, rel).get("run_id", ""))
    return out


def outbox_messages(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in (root / "processed/outbox").rglob("*.eml")
        if "alerts" not in p.parts
    )


@pytest.mark.flow
@pytest.mark.slow
def test_backfill_twice_is_idempotent(prefect_harness, data_root, progress_buffer):
    periods = ("2025-06", "2025-08")
    first = backfill_mod.backfill_flow(start=periods[0], end=periods[1], storage_root=str(data_root))
    assert [r["status"] for r in first["results"]] == ["completed"] * 3
    snap1 = parquet_snapshot(data_root)
    mail1 = outbox_messages(data_root)
    assert any("indicators/" in rel for rel in snap1), "no indicator output written"

    second = backfill_mod.backfill_flow(start=periods[0], end=periods[1], storage_root=str(data_root))
    assert [r["status"] for r in second["results"]] == ["completed"] * 3
    snap2 = parquet_snapshot(data_root)
    assert sorted(snap1) == sorted(snap2)
    for rel, (df, run_id) in snap1.items():
        df2, run_id2 = snap2[rel]
        pd.testing.assert_frame_equal(df, df2, check_exact=True, obj=rel)
        assert run_id2 != run_id or not run_id, f"{rel} was not rewritten by the second backfill"
    # a delivered message is not produced again (one delivery per month and recipient)
    assert outbox_messages(data_root) == mail1
    runs = Storage(data_root).listdir("processed/runs")
    assert len([r for r in runs if r.endswith(".json")]) == 6
    text = progress_buffer.getvalue()
    assert "[3/3] 2025-08: starting" in text and "2025-08 bps: done" in text
