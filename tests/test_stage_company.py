"""The company stage on SYNTHETIC periods written as Parquet in tmp_path; DuckDB reads what it wrote."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from flows.settings import Settings
from schemas.company import AGGREGATES_SCHEMA, COMPANY_INDICATORS_SCHEMA
from tasks.data_dictionary import DEFAULT_PATH, render_data_dictionary
from tests.company_fixtures import synthetic_panel, write_submissions


def test_data_dictionary_is_up_to_date() -> None:
    text = render_data_dictionary()
    assert "## `company_indicators`" in text and "| `value_added_idr` | int64 | IDR per month |" in text
    assert DEFAULT_PATH.read_text(encoding="utf-8") == text, (
        "docs/data-dictionary.md is stale: run `.venv/bin/python -m tasks.data_dictionary`"
    )


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "processed").mkdir(parents=True)
    src = Path(__file__).resolve().parents[1] / "data" / "raw" / "reference"
    (root / "raw" / "reference").mkdir(parents=True)
    for f in src.iterdir():
        (root / "raw" / "reference" / f.name).write_bytes(f.read_bytes())
    return root


@pytest.mark.flow
def test_stage_writes_company_and_aggregate_parquet_readable_by_duckdb(
    prefect_harness, tmp_path: Path
) -> None:
    from flows.stage_company import company_stage

    root = _root(tmp_path)
    july = synthetic_panel(24, period="2025-07", seed=3)
    august = synthetic_panel(24, period="2025-08", seed=3)  # same companies and cells, other months
    august["net_sales"] = august["net_sales"] + 10_000_000
    write_submissions(root, "2025-07", july)
    write_submissions(root, "2025-08", august)
    deflator = tmp_path / "deflator.csv"
    deflator.write_text(
        "pdrb_group,period,deflator_2010_100,source\n*,2025,125,synthetic test deflator\n", "utf-8"
    )
    settings = Settings(storage_root=str(root), deflator_table=str(deflator))

    first = company_stage(settings=settings, storage_root=str(root), period="2025-07", run_id="test-run-1")
    assert first["counts"]["companies"] == 24
    # make one July cell suppressed so August must carry it
    agg_dir = root / "processed" / "indicators" / "aggregates" / "period=2025-07"
    july_agg = pd.read_parquet(agg_dir)
    published = july_agg[(july_agg["level"] == "kabkota_x_sector") & ~july_agg["suppressed"]]
    target = published.iloc[0]
    july_agg.loc[published.index[0], "suppressed"] = True
    from tasks.parquet_io import frame_to_table, write_partition
    from tasks.storage import Storage

    write_partition(Storage(str(root)), "processed/indicators/aggregates", "period=2025-07",
                    frame_to_table(july_agg, AGGREGATES_SCHEMA))  # fmt: skip

    summary = company_stage(settings=settings, storage_root=str(root), period="2025-08", run_id="test-run-2")
    assert summary["counts"]["companies"] == 24 and summary["counts"]["kabkota_partitions"] == 3
    assert summary["counts"]["cells_carried"] >= 1
    assert len(summary["outputs"]) == 2
    assert all(r["n_companies"] >= 3 for r in summary["tables"]["aggregates-kabkota"])

    comp_glob = str(root / "processed" / "indicators" / "company" / "**" / "*.parquet")
    con = duckdb.connect()
    rows = con.sql(
        f"select nib, period, price_basis, productivity_index_prev, benchmark_level, benchmark_ratio "
        f"from read_parquet('{comp_glob}', hive_partitioning=true) where period = '2025-08' order by nib"
    ).fetchall()
    assert len(rows) == 24
    assert all(len(r[0]) == 13 and isinstance(r[0], str) for r in rows)
    assert {r[2] for r in rows} == {"constant 2010 prices"}
    assert all(r[3] is not None and r[3] > 100 for r in rows)  # sales up by 10 juta, same workers
    assert {r[4] for r in rows} == {"national sector"} and all(r[5] is not None for r in rows)

    agg_glob = str(root / "processed" / "indicators" / "aggregates" / "period=2025-08" / "*.parquet")
    agg = con.sql(
        f"select level, kabkota_code, pdrb_group, n_companies, value_added_idr, suppressed, suppression_reason "
        f"from read_parquet('{agg_glob}')"
    ).df()
    hidden = agg[agg["suppressed"]]
    assert (
        len(hidden) and hidden["value_added_idr"].isna().all() and hidden["suppression_reason"].notna().all()
    )
    carried = agg[
        (agg["kabkota_code"] == target["kabkota_code"]) & (agg["pdrb_group"] == target["pdrb_group"])
    ]
    assert carried["suppressed"].item() and "carried from 2025-07" in carried["suppression_reason"].item()
    shown = agg[~agg["suppressed"]]
    assert shown["value_added_idr"].notna().all() and (shown["n_companies"] >= 3).all()
    assert set(agg["level"]) == {"kabkota_x_sector", "kabkota", "sector", "total"}
    meta = con.sql(f"select value from parquet_kv_metadata('{agg_glob}') where key = 'run_id'").fetchall()
    assert meta and meta[0][0] == b"test-run-2"
    # the schema travels with the file: units in field metadata
    import pyarrow.parquet as pq

    schema = pq.read_schema(
        next((root / "processed" / "indicators" / "company" / "period=2025-08").glob("*.parquet"))
    )
    assert schema.names == COMPANY_INDICATORS_SCHEMA.names
    assert schema.field("va_per_hour_idr").metadata[b"unit"] == b"IDR per hour"


@pytest.mark.flow
def test_stage_with_no_submissions_writes_empty_outputs_and_a_notice(prefect_harness, tmp_path: Path) -> None:
    from flows.stage_company import company_stage

    root = _root(tmp_path)
    summary = company_stage(settings=Settings(storage_root=str(root)), storage_root=str(root), period="2025-09",
                            run_id="test-empty")  # fmt: skip
    assert summary["counts"]["companies"] == 0 and "fatal" not in summary
    assert any("No accepted company submissions for 2025-09" in n for n in summary["notices"])
    out = pd.read_parquet(root / "processed" / "indicators" / "company" / "period=2025-09")
    assert out.empty and list(out.columns) == COMPANY_INDICATORS_SCHEMA.names
    assert pd.read_parquet(root / "processed" / "indicators" / "aggregates" / "period=2025-09").empty


@pytest.mark.flow
def test_stage_gives_the_same_parquet_with_one_task_or_a_task_per_kabkota(
    prefect_harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import stage_company

    written = {}
    # "dask" in the settings picks the per-kab/kota tasks; the harness still runs them on threads
    for name, max_rows, runner in (
        ("single", stage_company.SINGLE_TASK_MAX_ROWS, "thread"),
        ("mapped", 0, "dask"),
    ):
        monkeypatch.setattr(stage_company, "SINGLE_TASK_MAX_ROWS", max_rows)
        root = _root(tmp_path / name)
        write_submissions(root, "2025-07", synthetic_panel(12, period="2025-07", seed=5))
        write_submissions(root, "2025-08", synthetic_panel(12, period="2025-08", seed=5))
        settings = Settings(storage_root=str(root), task_runner=runner)
        summary = stage_company.company_stage(
            settings=settings, storage_root=str(root), period="2025-08", run_id="same-run"
        )
        files = {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted((root / "processed" / "indicators").rglob("*.parquet"))
        }
        written[name] = (summary["counts"], summary["tables"], files)
    assert written["single"][2] and written["single"] == written["mapped"]


def test_one_task_on_one_machine_and_per_kabkota_only_for_a_big_period_on_dask() -> None:
    from flows.stage_company import SINGLE_TASK_MAX_ROWS, one_task

    assert one_task(23, "thread") and one_task(23, "dask") and one_task(10**5, "thread")
    assert one_task(SINGLE_TASK_MAX_ROWS, "dask") and not one_task(SINGLE_TASK_MAX_ROWS + 1, "dask")
