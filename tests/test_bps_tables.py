"""Tidy BPS tables from the decoded var 533 response and the bundled files."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from schemas import bps_catalogue as cat
from tasks import bps_tables as bt
from tasks.bps_decode import decode_data_response
from tasks.storage import Storage

PROJECT = Path(__file__).resolve().parents[1]
DS = cat.dataset("pdrb_adhk_province")


@pytest.fixture(scope="module")
def body() -> dict:
    return json.loads(Storage(PROJECT / "data").read_bytes(DS.file))


def _chunk(body: dict, years: set[int]) -> dict:
    """A response restricted to some years, the shape the WebAPI gives for a th chunk."""
    b = copy.deepcopy(body)
    b["tahun"] = [t for t in b["tahun"] if int(t["label"]) in years]
    return b


def test_var533_scaled_to_billion_with_status(body):
    res = bt.grdp_from_decoded([decode_data_response(body)], DS, "bundled")
    f = res.frame
    kt = f[(f["region_code"] == "64") & (f["year"] == 2023)].iloc[0]
    assert kt["grdp_adhk2010_billion_idr"] == pytest.approx(537630.007, abs=0.01)  # 537,630,007 juta
    assert kt["status"] == "sangat sementara" and kt["var"] == 533 and kt["unit_published"] == "Juta Rupiah"
    assert f[f["year"] == 2021]["status"].isna().all()
    agg = f[f["region_code"] == "99"]
    assert set(agg["region_level"]) == {"province_sum"} and len(agg) == 5
    assert len(f[f["region_level"] == "province"]) == 34 * 5
    assert set(f["boundary"]) == {"34"}
    assert f[f["region_code"] == "34"]["region_name"].iloc[0] == "DI Yogyakarta"
    joined = " | ".join(res.diagnostics)
    assert "980 datacontent keys" in joined and "no last_update" in joined and "Milyar" in joined


def test_chunks_merge_to_the_same_table(body):
    whole = bt.grdp_from_decoded([decode_data_response(body)], DS, "v").frame
    chunks = [decode_data_response(_chunk(body, ys)) for ys in ({2019, 2020, 2021}, {2022, 2023})]
    merged = bt.grdp_from_decoded(chunks, DS, "v").frame
    key = ["year", "region_code"]
    assert (
        merged.sort_values(key).reset_index(drop=True).equals(whole.sort_values(key).reset_index(drop=True))
    )


def test_unknown_unit_refused(body):
    b = copy.deepcopy(body)
    b["var"][0]["unit"] = "Ribu Dolar"
    with pytest.raises(cat.UnknownUnitError, match="Ribu Dolar"):
        bt.grdp_from_decoded([decode_data_response(b)], DS, "v")


def test_label_mismatch_refused(body):
    b = copy.deepcopy(body)
    b["vervar"][0]["label"] = "KOTA AMBON"
    with pytest.raises(bt.BpsTableError, match="labels disagree"):
        bt.grdp_from_decoded([decode_data_response(b)], DS, "v")


def test_files_and_sector_table():
    st = Storage(PROJECT / "data")
    g24 = bt.grdp_from_file(st, cat.dataset("pdrb_adhk_province_file"))
    assert set(g24["year"]) == {2024} and len(g24) == 38 and set(g24["boundary"]) == {"38"}
    emp = bt.employed_from_file(st, cat.dataset("employed_province"))
    b = emp.groupby("year")["boundary"].first().to_dict()
    assert b == {2019: "34", 2020: "34", 2021: "34", 2022: "34", 2023: "38", 2024: "38"}
    res = bt.sector_from_file(st, cat.dataset("employed_by_sector_kaltim"))
    s = res.frame
    assert not res.diagnostics
    assert s.groupby("year").size().eq(17).all()
    assert {"M-N", "R-U"} <= set(s["sector_code"])
    assert s.groupby("year")["share_pct"].sum().round(6).eq(100).all()
    g23 = s[(s["year"] == 2023) & (s["sector_code"] == "G")]["share_pct"].iloc[0]
    assert round(g23, 2) == 19.74  # BPS Kaltim August 2023 (SOURCES.md)


def test_manifest_matches_files(tmp_path):
    st = Storage(PROJECT / "data")
    committed = bt.read_snapshot_manifest(st)
    assert committed == bt.snapshot_manifest_entries(st)  # rebuilt manifest = committed one
    paths = {e["path"] for e in committed}
    assert "raw/bps/snapshot/files/national_pdb_adhk2010.csv" in paths
    var533 = next(e for e in committed if e["var"] == 533)
    assert var533["last_update"] is None and var533["kind"] == "bundled-webapi" and var533["domain"] == "0000"
