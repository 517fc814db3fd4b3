"""The company stage on a Dask LocalCluster against s3:// (moto) gives the same rows as the local run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flows.runtime import task_runner_for
from flows.settings import load_settings
from tasks.parquet_io import read_frame
from tasks.storage import Storage
from tests import s3_server as s3_fixtures

s3_server = s3_fixtures.s3_server
s3_root = s3_fixtures.s3_root

PERIOD = "2025-08"
COMPANY_OUTPUTS = ("processed/indicators/company", "processed/indicators/aggregates")


def copy_tree_to(storage: Storage, local_root: Path) -> None:
    for p in sorted(local_root.rglob("*")):
        if p.is_file():
            storage.write_bytes(p.relative_to(local_root).as_posix(), p.read_bytes())


def company_frames(storage: Storage) -> dict[str, pd.DataFrame]:
    out = {}
    for base in COMPANY_OUTPUTS:
        for rel in storage.walk_files(f"{base}/period={PERIOD}", "*.parquet"):
            df = read_frame(storage, rel)
            out[rel] = df.sort_values(list(df.columns[:2])).reset_index(drop=True)
    return out


@pytest.fixture
def stage_company():
    # before the Prefect harness in the test's arguments, so a skip costs nothing
    return pytest.importorskip("flows.stage_company", reason="the company stage is not there yet")


@pytest.mark.flow
@pytest.mark.slow
def test_company_stage_on_dask_and_s3_matches_local(stage_company, prefect_harness, data_root, s3_root):
    from flows.stage_bps import bps_stage
    from flows.stage_submissions import submissions_stage

    local = str(data_root)
    settings = load_settings(env={}, storage_root=local)
    # the company stage reads what the BPS and submissions stages wrote
    bps_stage(settings=settings, storage_root=local, period=PERIOD, run_id="prep")
    submissions_stage(settings=settings, storage_root=local, period=PERIOD, run_id="prep")
    remote = Storage(s3_root)
    copy_tree_to(remote, data_root)  # the same inputs in the bucket, before the local company run

    local_result = stage_company.company_stage(
        settings=settings, storage_root=local, period=PERIOD, run_id="local"
    )
    assert not local_result.get("fatal")
    expected = company_frames(Storage(local))
    assert expected, "the local company run wrote no company or aggregate Parquet"

    s3_settings = load_settings(env={"PRODUKTIVITAS_TASK_RUNNER": "dask"}, storage_root=s3_root)
    runner = task_runner_for(s3_settings)  # a LocalCluster: 2 worker processes, 1 thread each
    dask_stage = stage_company.company_stage.with_options(task_runner=runner)
    remote_result = dask_stage(settings=s3_settings, storage_root=s3_root, period=PERIOD, run_id="dask-s3")
    assert not remote_result.get("fatal")
    assert remote_result.get("counts") == local_result.get("counts")
    got = company_frames(Storage(s3_root, storage_options={"skip_instance_cache": True}))
    assert sorted(got) == sorted(expected)
    for rel, df in expected.items():
        pd.testing.assert_frame_equal(got[rel], df, check_exact=True, obj=rel)
    assert all(o.startswith(s3_root) for o in remote_result.get("outputs", []))
