"""The submissions stage as a Prefect subflow on a copy of the bundled period."""

from __future__ import annotations

import pytest

from flows.settings import load_settings
from tasks.parquet_io import read_frame
from tasks.storage import Storage


@pytest.mark.flow
@pytest.mark.slow
def test_stage_on_bundled_period(prefect_harness, data_root):
    from flows.stage_submissions import submissions_stage

    root = str(data_root)
    out = submissions_stage(settings=load_settings(storage_root=root), storage_root=root, period="2025-08",
                            run_id="test-run")  # fmt: skip
    c = out["counts"]
    assert c["rows_read"] == c["accepted"] + c["quarantined"] == 22
    assert (c["files"], c["accepted"], c["files_unreadable"]) == (15, 18, 2)
    assert "fatal" not in out and out["diagnostics"] == []
    assert any("dikarantina" in n for n in out["notices"])
    assert {r["reason_code"] for r in out["tables"]["quarantine-reasons"]} >= {"superseded", "corrupt_xlsx"}
    storage = Storage(root)
    assert len(read_frame(storage, "processed/submissions/period=2025-08/part-0.parquet")) == 18
    assert storage.exists("processed/quarantine/period=2025-08/quarantine.csv")
    assert storage.exists("processed/receipts/period=2025-08/9982369706696.html")
    assert storage.exists("processed/data_docs/submissions/period=2025-08/index.html")
    assert any(o.endswith("data_docs/submissions/period=2025-08/index.html") for o in out["outputs"])


@pytest.mark.flow
def test_stage_empty_month_and_all_unreadable(prefect_harness, tmp_path):
    from flows.stage_submissions import submissions_stage

    root = str(tmp_path / "data")
    settings = load_settings(storage_root=root)
    out = submissions_stage(settings=settings, storage_root=root, period="2025-09", run_id="t")
    assert out["counts"]["files"] == 0 and "fatal" not in out
    assert out["notices"][0].startswith("Tidak ada kiriman")
    folder = tmp_path / "data/raw/submissions/2025-10"
    folder.mkdir(parents=True)
    (folder / "rusak.xlsx").write_bytes(b"not a workbook")
    out = submissions_stage(settings=settings, storage_root=root, period="2025-10", run_id="t")
    assert out["fatal"] and out["counts"]["files_unreadable"] == 1
