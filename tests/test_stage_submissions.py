"""The submissions stage as a Prefect subflow on a copy of the bundled period."""

from __future__ import annotations

import pandas as pd
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


@pytest.mark.flow
@pytest.mark.slow
def test_gx_run_reused_only_while_the_validated_values_are_unchanged(prefect_harness, data_root, tmp_path,
                                                                       monkeypatch):  # fmt: skip
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    from flows.stage_submissions import submissions_stage
    from tasks import submission_validate as sv

    calls: list[int] = []
    real = sv.run_gx_frame
    monkeypatch.setattr(
        sv, "run_gx_frame", lambda gdf, *a, **kw: calls.append(len(gdf)) or real(gdf, *a, **kw)
    )
    root = str(data_root)
    settings = load_settings(storage_root=root)
    storage = Storage(root)
    accepted = "processed/submissions/period=2025-08/part-0.parquet"
    docs = "processed/data_docs/submissions/period=2025-08/index.html"

    def run(run_id: str) -> dict:
        return submissions_stage(settings=settings, storage_root=root, period="2025-08", run_id=run_id)

    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: tmp_path / "prefect-results"}):
        first = run("first")
        assert calls == [22]  # the first run runs the GX suite over all 22 rows read
        rows_first, docs_first = read_frame(storage, accepted), storage.read_bytes(docs)
        second = run("second")
        assert calls == [22]  # same values, rules and code: GX results and Data Docs reused
        assert second["counts"] == first["counts"] and second["diagnostics"] == first["diagnostics"] == []
        pd.testing.assert_frame_equal(read_frame(storage, accepted), rows_first)
        assert storage.read_bytes(docs) == docs_first

        # One changed figure in one company's CSV: GX runs again, and the accepted row has the new figure
        csv = data_root / "raw/submissions/2025-08/2025-08_9931528718765_bersama_karya_jaya_SINTETIS.csv"
        before = read_frame(storage, accepted).set_index("nib").loc["9931528718765", "wages_salaries"]
        text = csv.read_text(encoding="utf-8")

        def id_number(v: float) -> str:  # the CSV writes 299.566.000
            return f"{int(v):,}".replace(",", ".")

        assert text.count(f";{id_number(before)};") == 1
        csv.write_text(
            text.replace(f";{id_number(before)};", f";{id_number(before + 1000)};"), encoding="utf-8"
        )
        third = run("third")
        assert calls == [22, 22] and third["diagnostics"] == []
        after = read_frame(storage, accepted).set_index("nib").loc["9931528718765", "wages_salaries"]
        assert after == before + 1000
