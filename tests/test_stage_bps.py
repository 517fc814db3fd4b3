"""The BPS stage under the Prefect harness: offline on the bundled snapshot, online against the local server."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from flows.settings import load_settings
from tasks.parquet_io import file_metadata, read_frame
from tasks.storage import Storage
from tests.bps_server import TEST_KEY, bps_server  # noqa: F401  (the fixture)

PROVINCIAL = "processed/indicators/provincial_productivity.parquet"
KABKOTA = "processed/indicators/kabkota_productivity.parquet"


def _run(root: Path, run_id: str, **overrides) -> dict:
    from flows.stage_bps import bps_stage

    settings = load_settings(env={}, storage_root=str(root), **overrides)
    return bps_stage(settings=settings, storage_root=str(root), period="2025-08", run_id=run_id)


@pytest.mark.flow
@pytest.mark.slow
def test_offline_stage_writes_parquet_duckdb_reads_and_rerun_is_identical(prefect_harness, data_root):
    first = _run(data_root, "run-one")
    assert first["data_source"] == "snapshot"
    assert any("snapshot BPS bawaan" in n and "Triwulan II 2024" in n for n in first["notices"])
    assert any("980 datacontent keys" in d for d in first["diagnostics"])
    assert first["counts"]["provincial_rows"] == 214 and first["counts"]["kabkota_rows"] == 60
    json.dumps(first)  # the summary is JSON-able (run summary file, artifacts)
    headline = {(r["year"], r["region_code"]): r for r in first["tables"]["provincial-productivity"]}
    assert (
        headline[(2023, "64")]["rank"] == 2
        and headline[(2023, "00")]["productivity_million_idr_per_worker"] == 87.96
    )

    prov_path = data_root / PROVINCIAL
    kab_path = data_root / KABKOTA
    assert prov_path.exists() and kab_path.exists()
    rows = duckdb.sql(
        f"select year, rank, productivity_million_idr_per_worker from '{prov_path}' where region_code='64' order by year"
    ).fetchall()
    assert [r[0] for r in rows] == [2019, 2020, 2021, 2022, 2023, 2024]
    assert {r[0]: r[1] for r in rows}[2022] == 2 and round(rows[4][2], 2) == 291.04
    n_kab = duckdb.sql(f"select count(*) from '{kab_path}' where region_code='6472'").fetchall()[0][0]
    assert n_kab == 6

    st = Storage(data_root)
    before = read_frame(st, PROVINCIAL)
    assert file_metadata(st, PROVINCIAL)["run_id"] == "run-one"
    _run(data_root, "run-two")
    after = read_frame(st, PROVINCIAL)
    pd.testing.assert_frame_equal(before, after)
    assert file_metadata(st, PROVINCIAL)["run_id"] == "run-two"


@pytest.mark.flow
@pytest.mark.slow
def test_online_stage_fetches_stores_and_matches_snapshot(prefect_harness, data_root, bps_server):  # noqa: F811
    offline = _run(data_root, "offline")
    snap = read_frame(Storage(data_root), PROVINCIAL)

    online = _run(
        data_root, "online", bps_api_key=TEST_KEY, bps_base_url=bps_server.base_url,
        bps_retries=0, bps_backoff_seconds=0.01, bps_timeout_seconds=5,
    )  # fmt: skip
    assert online["data_source"] == "webapi", online["notices"]
    assert online["counts"]["webapi_responses"] >= 2  # 2019-2023 is more than 3 years: chunked
    requests = bps_server.data_requests()
    assert requests and all(r["params"].get("var") == "533" for r in requests)
    st = Storage(data_root)
    manifest = [json.loads(x) for x in st.read_text("raw/bps/webapi/manifest.jsonl").splitlines()]
    assert len(manifest) == online["counts"]["webapi_responses"]
    assert all(st.exists(e["path"]) and TEST_KEY not in e["url"] for e in manifest)
    assert TEST_KEY not in json.dumps(online)

    web = read_frame(st, PROVINCIAL)
    cols = ["year", "region_code", "employed_persons", "rank"]
    pd.testing.assert_frame_equal(web[cols], snap[cols])
    pd.testing.assert_series_equal(
        web["productivity_million_idr_per_worker"], snap["productivity_million_idr_per_worker"], rtol=1e-12
    )
    assert web["grdp_vintage"].str.startswith("BPS WebAPI retrieved").any()
    assert offline["data_source"] == "snapshot"

    # Within a day the same fetch is served from Prefect's result cache: no request reaches BPS
    bps_server.mode = "down"
    n_requests = len(bps_server.requests)
    cached = _run(
        data_root, "cached", bps_api_key=TEST_KEY, bps_base_url=bps_server.base_url,
        bps_retries=0, bps_backoff_seconds=0.01, bps_timeout_seconds=5,
    )  # fmt: skip
    assert cached["data_source"] == "webapi" and len(bps_server.requests) == n_requests
    pd.testing.assert_frame_equal(read_frame(st, PROVINCIAL)[cols], snap[cols])

    # WebAPI down and the cache refreshed: falls back to the newest stored data (the retrieval just
    # stored), with a notice
    from prefect.settings import PREFECT_TASKS_REFRESH_CACHE, temporary_settings

    with temporary_settings(updates={PREFECT_TASKS_REFRESH_CACHE: True}):
        down = _run(
            data_root, "down", bps_api_key=TEST_KEY, bps_base_url=bps_server.base_url,
            bps_retries=0, bps_backoff_seconds=0.01, bps_timeout_seconds=5,
        )  # fmt: skip
    assert len(bps_server.requests) > n_requests
    assert down["data_source"] == "stored-webapi"
    assert any("BPS WebAPI gagal" in n and "diambil" in n for n in down["notices"])
    pd.testing.assert_frame_equal(read_frame(st, PROVINCIAL)[cols], snap[cols])


@pytest.mark.flow
def test_stage_without_inputs_reports_fatal(prefect_harness, tmp_path):
    root = tmp_path / "empty"
    (root / "raw").mkdir(parents=True)
    out = _run(root, "empty")
    assert "fatal" in out and "tidak dapat dibaca" in out["fatal"]
    assert out["outputs"] == [] and not (root / PROVINCIAL).exists()


@pytest.fixture
def own_result_store(tmp_path):
    """Prefect's result cache in a fresh folder: no cached entry from another test or session."""
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: tmp_path / "prefect-results"}):
        yield


@pytest.mark.flow
@pytest.mark.slow
def test_validation_reused_only_while_inputs_unchanged(
    prefect_harness, data_root, own_result_store, monkeypatch
):
    from tasks import bps_validate as bv

    calls: list[str] = []
    real = bv.validate_grdp
    monkeypatch.setattr(bv, "validate_grdp", lambda frame: calls.append("grdp") or real(frame))
    st = Storage(data_root)

    first = _run(data_root, "first")
    assert calls == ["grdp"]  # the first run validates fully
    kab_first = read_frame(st, KABKOTA)

    second = _run(data_root, "second")
    assert calls == ["grdp"]  # same bytes, same code: the validated tables are reused
    assert second["counts"] == first["counts"] and second["diagnostics"] == first["diagnostics"]
    assert second["validation"] == first["validation"]
    pd.testing.assert_frame_equal(read_frame(st, KABKOTA), kab_first)
    assert file_metadata(st, KABKOTA)["run_id"] == "second"  # outputs are still written by this run

    # One changed figure in one input file: validated again, and the output carries the new figure
    rel = "raw/bps/snapshot/files/kabkota_grdp_adhk2010.csv"
    text = (data_root / rel).read_text(encoding="utf-8")
    assert "6401,Kabupaten Paser,2021,36580," in text
    (data_root / rel).write_text(
        text.replace("6401,Kabupaten Paser,2021,36580,", "6401,Kabupaten Paser,2021,36590,")
    )
    _run(data_root, "changed")
    assert calls == ["grdp", "grdp"]
    kab = read_frame(st, KABKOTA).set_index(["year", "region_code"])
    old = kab_first.set_index(["year", "region_code"])
    assert kab.loc[(2021, "6401"), "grdp_adhk2010_billion_idr"] == 36590
    assert old.loc[(2021, "6401"), "grdp_adhk2010_billion_idr"] == 36580

    # A hard failure is never cached: the same broken input fails again on the next run
    rel = "raw/bps/snapshot/files/employed_aug_by_province.csv"
    lines = (data_root / rel).read_text(encoding="utf-8").splitlines(keepends=True)
    (data_root / rel).write_text("".join(ln for ln in lines if not ln.startswith("11,Aceh,2023,")))
    for run_id in ("broken-1", "broken-2"):
        with pytest.raises(bv.BpsValidationError, match="regions_complete_per_year"):
            _run(data_root, run_id)
    assert calls == ["grdp"] * 4
