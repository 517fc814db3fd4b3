"""A small period's kab/kota partitions computed in one task equal the per-kab/kota tasks (SYNTHETIC data)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flows import stage_company as sc
from tasks.storage import Storage
from tests.company_fixtures import synthetic_panel, write_submissions

PERIOD = "2025-08"
CODES = ("6401", "6472", "6471", "6409")


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "processed").mkdir(parents=True)
    for i, period in enumerate(("2025-06", "2025-07")):
        history = synthetic_panel(30, period=period, seed=11, kabkota_codes=CODES)
        history["net_sales"] = history["net_sales"] + i * 5_000_000
        write_submissions(root, period, history)
    current = synthetic_panel(30, period=PERIOD, seed=12, kabkota_codes=CODES)
    # the period in two files, as the submissions stage may write it
    write_submissions(root, PERIOD, current.iloc[:17])
    second = root / "processed" / "submissions" / f"period={PERIOD}" / "part-1.parquet"
    pq.write_table(pa.Table.from_pandas(current.iloc[17:], preserve_index=False), second)
    return root


def _options(tmp_path: Path) -> dict[str, str]:
    deflator = tmp_path / "deflator.csv"
    deflator.write_text("pdrb_group,period,deflator_2010_100,source\n*,2025,125,synthetic\n", "utf-8")
    umk = tmp_path / "umk.csv"
    umk.write_text(
        "kabkota_code,year,umk_idr_per_month\n" + "".join(f"{c},2025,3500000\n" for c in CODES), "utf-8"
    )
    kemnaker = Path(__file__).resolve().parents[1] / "data" / sc.KEMNAKER_REL
    return {
        "umk_table": str(umk),
        "deflator_table": str(deflator),
        "kemnaker_csv": kemnaker.read_text(encoding="utf-8"),
        "sector_pdrb_table": "",
        "sector_employment_table": "",
    }


def test_one_task_gives_the_frames_of_the_per_kabkota_tasks(tmp_path: Path) -> None:
    root = str(_root(tmp_path))
    options = _options(tmp_path)
    codes, n_rows = sc.kabkota_codes_task.fn(root, PERIOD)
    assert codes == sorted(CODES) and n_rows == 30

    storage = Storage(root)
    accepted = list(sc.iter_accepted_tables(storage, PERIOD))
    rows = [sc._kabkota_rows(accepted, PERIOD, code) for code in codes]
    assert sc._computable_at_once(rows, list(sc.iter_history_tables(storage, PERIOD)))

    single = sc.company_partitions_task.fn(root, PERIOD, codes, **options)
    mapped = [sc.company_partition_task.fn(root, PERIOD, code, **options) for code in codes]
    assert len(single) == len(mapped) == len(codes)
    for one, each in zip(single, mapped, strict=True):
        assert len(one) and one["productivity_index_prev"].notna().any()
        pd.testing.assert_frame_equal(one, each, check_exact=True)


def test_one_task_writes_the_same_parquet_as_the_per_kabkota_tasks(tmp_path: Path) -> None:
    options = _options(tmp_path)
    written = []
    for name in ("single", "mapped"):
        root = str(_root(tmp_path / name))
        codes, _ = sc.kabkota_codes_task.fn(root, PERIOD)
        if name == "single":
            parts = sc.company_partitions_task.fn(root, PERIOD, codes, **options)
        else:
            parts = [sc.company_partition_task.fn(root, PERIOD, code, **options) for code in codes]
        result = sc.aggregates_task.fn(
            root, PERIOD, parts, p_percent=10.0, min_companies=3, run_id="same-run"
        )
        written.append((result, root))
    (single, single_root), (mapped, mapped_root) = written
    assert single["counts"] == mapped["counts"] and single["tables"] == mapped["tables"]
    for dataset in (sc.COMPANY_DATASET, sc.AGGREGATES_DATASET):
        rel = f"{dataset}/period={PERIOD}/part-0.parquet"
        assert (Path(single_root) / rel).read_bytes() == (Path(mapped_root) / rel).read_bytes(), rel


def test_a_company_in_two_kabkota_is_computed_per_partition(tmp_path: Path) -> None:
    root = _root(tmp_path)
    current = synthetic_panel(30, period=PERIOD, seed=12, kabkota_codes=CODES)
    twin = current.iloc[[0]].assign(
        kabkota_code=next(c for c in CODES if c != current["kabkota_code"].iloc[0])
    )
    twin["source_row"] = 3
    write_submissions(root, PERIOD, pd.concat([current, twin], ignore_index=True))
    (root / "processed" / "submissions" / f"period={PERIOD}" / "part-1.parquet").unlink()
    options = _options(tmp_path)
    codes, _ = sc.kabkota_codes_task.fn(str(root), PERIOD)
    storage = Storage(str(root))
    accepted = list(sc.iter_accepted_tables(storage, PERIOD))
    rows = [sc._kabkota_rows(accepted, PERIOD, code) for code in codes]
    assert not sc._computable_at_once(rows, list(sc.iter_history_tables(storage, PERIOD)))

    single = sc.company_partitions_task.fn(str(root), PERIOD, codes, **options)
    mapped = [sc.company_partition_task.fn(str(root), PERIOD, code, **options) for code in codes]
    for one, each in zip(single, mapped, strict=True):
        pd.testing.assert_frame_equal(one, each, check_exact=True)
