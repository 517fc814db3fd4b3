"""The national-scale benchmark at smoke size: it runs, prints its table and summary line, writes the JSON,
and its DuckDB reference agrees with the pipeline's code. No timing assertions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import duckdb_reference as dr
from benchmarks import synthetic_accepted as syn
from tasks.parquet_io import write_partition
from tasks.storage import Storage

ROOT = Path(__file__).resolve().parents[1]
SUMMARY_RE = re.compile(r"^end-to-end (\S+) s; compute/duckdb (\S+)x; peak RSS (\S+) MB; rows (\S+)$")


def _run(tmp_path: Path, *args: str, timeout: int = 900) -> tuple[subprocess.CompletedProcess, dict]:
    results = tmp_path / "results"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--workdir",
            str(tmp_path / "work"),
            "--results-dir",
            str(results),
            *args,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = list(results.glob("*.json"))
    assert len(files) == 1, files
    return proc, json.loads(files[0].read_text())


@pytest.mark.slow
def test_year_scenario_runs_prints_and_agrees_with_duckdb(tmp_path: Path) -> None:
    proc, res = _run(tmp_path, "--companies", "1000", "--scenarios", "year", "--year-months", "2")
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["scenario", "step", "status"]
    assert any(line.startswith("year") and "duckdb total" in line and "agrees" in line for line in lines)
    m = SUMMARY_RE.match(lines[-1])
    assert m, lines[-1]
    assert m.group(4) == "2000"  # 2 months x 1000 companies
    assert float(m.group(2)) > 0
    year = res["scenarios"]["year"]
    assert year["agrees"] is True
    cmp = year["compare_company"]
    assert cmp["rows_compared"] == 2000 and not cmp["mismatches"]
    assert {"value_added_idr", "va_per_worker_idr", "labour_share_pct", "productivity_index_prev"} <= set(
        cmp["checked_columns"]
    )
    if year["aggregates_included"]:
        agg = year["compare_aggregates"]
        assert agg["ok"] and agg["cells_compared"] > 0 and agg["suppression"]["duckdb_primary"] > 0
    assert res["summary_line"] == lines[-1]
    assert res["machine"]["usable_cores"] >= 1 and res["machine"]["packages"]["duckdb"] != "not installed"
    assert "command" in res and "benchmarks/run.py" in res["command"]


@pytest.mark.slow
def test_month_scenario_without_server_times_each_stage(tmp_path: Path) -> None:
    proc, res = _run(tmp_path, "--companies", "40", "--scenarios", "month", "--no-flow")
    month = res["scenarios"]["month"]
    names = [m["name"] for m in month["stages"]["measurements"]]
    assert names[:3] == ["imports", "read", "validate"] and names[-2:] == ["bulletin", "company_reports"]
    reports = month["stages"]["measurements"][-1]
    assert reports["status"] == "ok" and reports["rows"] == month["stages"]["counts"]["company_reports"] > 30
    read = next(m for m in month["stages"]["measurements"] if m["name"] == "read")
    # one planted unreadable file: a company or two fewer rows than generated
    assert read["status"] == "ok" and 30 < read["rows"] == month["stages"]["counts"]["rows_read"]
    assert read["peak_rss_mb"] > 0 and read["cpu_seconds"] > 0
    assert month["generate"]["rows"] >= 40
    if month["duckdb"].get("status") == "ok" and "company" in month["duckdb"]:
        assert month["duckdb"]["agrees"] is True
    assert SUMMARY_RE.match(proc.stdout.strip().splitlines()[-1])


# --- the comparison must really catch a difference ------------------------------------------------
@pytest.fixture
def accepted_glob(tmp_path: Path) -> str:
    storage = Storage(tmp_path / "data")
    firms = syn.companies(300, seed=5, n_kabkota=20)
    for p in ("2025-01", "2025-02"):
        table = syn.to_accepted_table(syn.month_rows(firms, p, 5), syn.accepted_schema())
        write_partition(storage, "processed/submissions", f"period={p}", table)
    return str(tmp_path / "data" / "processed" / "submissions" / "period=*" / "*.parquet")


def test_reference_suppresses_small_cells_and_ratios_are_of_totals(accepted_glob: str) -> None:
    ref = dr.run_reference(accepted_glob, min_companies=3, p_percent=10.0)
    agg = ref.aggregates
    assert set(agg["level"]) == {"kabkota_x_sector", "kabkota", "sector", "total"}
    small = agg["n_companies"] < 3
    assert small.any() and agg.loc[small, "primary_suppressed"].all()
    total = agg[agg["level"] == "total"].set_index("period")
    comp = ref.company.groupby("period")[["value_added_idr", "workers_avg_total"]].sum()
    expect = comp["value_added_idr"] / comp["workers_avg_total"]
    assert (total["va_per_worker_idr"] - expect).abs().max() < 1e-6
    assert not total["primary_suppressed"].any()  # 300 companies, none dominant


def test_compare_company_detects_a_changed_value(accepted_glob: str) -> None:
    ref = dr.run_reference(accepted_glob)
    pipe = ref.company.copy()
    assert dr.compare_company(pipe, ref.company).ok
    pipe.loc[5, "va_per_hour_idr"] *= 1.001
    cmp = dr.compare_company(pipe, ref.company)
    assert not cmp.ok and cmp.mismatches == {"va_per_hour_idr": 1}


def test_compare_aggregates_detects_a_missed_primary_suppression(accepted_glob: str) -> None:
    ref = dr.run_reference(accepted_glob)
    r = ref.aggregates
    pipe = r.drop(columns=[c for c in r.columns if c.startswith(("x_", "unsafe_"))]).copy()
    pipe["suppressed"] = r["primary_suppressed"]
    pipe["suppression_reason"] = r["primary_suppressed"].map({True: "fewer than 3 companies", False: ""})
    value_cols = [c for c in dr.AGGREGATE_COLUMNS if c != "n_companies"]
    pipe.loc[pipe["suppressed"], value_cols] = None
    ok = dr.compare_aggregates(pipe, r)
    assert ok.ok, ok.to_dict()
    leaked = pipe.index[pipe["suppressed"]][0]
    pipe.loc[leaked, "suppressed"] = False  # a cell the rules protect gets published
    bad = dr.compare_aggregates(pipe, r)
    assert not bad.ok and bad.suppression["duckdb_primary_not_suppressed_by_pipeline"] == 1


def test_compare_aggregates_flags_a_wrong_published_sum(accepted_glob: str) -> None:
    ref = dr.run_reference(accepted_glob)
    r = ref.aggregates
    pipe = r.copy()
    pipe["suppressed"] = r["primary_suppressed"]
    pipe["suppression_reason"] = ""
    i = pipe.index[(~pipe["suppressed"]) & (pipe["level"] == "kabkota")][0]
    pipe.loc[i, "labour_cost_idr"] += 1e6
    bad = dr.compare_aggregates(pipe, r)
    assert not bad.ok and bad.mismatches == {"labour_cost_idr": 1}


def test_synthetic_accepted_is_labelled_and_national() -> None:
    firms = syn.companies(2000, seed=1)
    assert firms["company_name"].str.endswith("(SINTETIS)").all()
    assert firms["nib"].str.fullmatch(r"\d{13}").all() and firms["nib"].is_unique
    assert firms["kabkota_code"].str[:2].nunique() > 20  # spread over the provinces
    rows = syn.month_rows(firms, "2025-03", 1)
    assert (rows["source_file"] == syn.SYNTHETIC_SOURCE).all()
    summed = rows[["workers_pkwtt", "workers_pkwt", "workers_outsourced", "workers_unpaid"]].sum(axis=1)
    assert (summed == rows["workers_avg_total"]).all()
    assert isinstance(pd.Timestamp(rows["submitted_on"].iloc[0]), pd.Timestamp)
