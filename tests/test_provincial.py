"""Provincial / national / kab/kota productivity from the bundled snapshot reproduces Kemnaker's figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from schemas import bps_catalogue as cat
from schemas.boundaries import BoundaryError, to_boundary_code
from schemas.indicators import PROVINCIAL_SCHEMA
from tasks import bps_tables as bt
from tasks import provincial as pv
from tasks.bps_decode import decode_data_response
from tasks.parquet_io import file_metadata, frame_to_table, read_frame, write_table
from tasks.storage import Storage

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    st = Storage(PROJECT / "data")
    ds = cat.dataset("pdrb_adhk_province")
    decoded = decode_data_response(json.loads(st.read_bytes(ds.file)))
    grdp = bt.assemble_grdp(
        [
            bt.grdp_from_decoded([decoded], ds, "bundled").frame,
            bt.grdp_from_file(st, cat.dataset("pdrb_adhk_province_file")),
            bt.national_pdb_from_file(st, cat.dataset("pdb_adhk_national")),
            bt.kabkota_grdp_from_file(st, cat.dataset("pdrb_adhk_kabkota")),
        ]
    )
    emp = bt.assemble_employed(
        [
            bt.employed_from_file(st, cat.dataset("employed_province")),
            bt.kabkota_employed_from_file(st, cat.dataset("employed_kabkota")),
        ]
    )
    return grdp, emp


@pytest.fixture(scope="module")
def prov(tables) -> pd.DataFrame:
    return pv.provincial_productivity(*tables).frame


def _row(frame: pd.DataFrame, year: int, code: str) -> pd.Series:
    sel = frame[(frame["year"] == year) & (frame["region_code"] == code)]
    assert len(sel) == 1, (year, code, len(sel))
    return sel.iloc[0]


def test_indonesia_matches_kemnaker(prov):
    assert round(_row(prov, 2022, "00")["productivity_million_idr_per_worker"], 2) == 86.55
    assert round(_row(prov, 2023, "00")["productivity_million_idr_per_worker"], 2) == 87.96
    # national uses the PDB, never the sum of provinces (which would give ~87.5 for 2022)
    assert _row(prov, 2022, "00")["grdp_adhk2010_billion_idr"] == 11_710_200


@pytest.mark.parametrize("year,value", [(2022, 289.74), (2023, 291.04)])
def test_kaltim_second_jakarta_first(prov, year, value):
    kt, jk = _row(prov, year, "64"), _row(prov, year, "31")
    assert kt["rank"] == 2 and jk["rank"] == 1
    assert round(kt["productivity_million_idr_per_worker"], 2) == value
    assert kt["rank_of"] == 34
    assert pd.isna(_row(prov, year, "00")["rank"])


def test_national_missing_pdb_years_have_reason(prov):
    for y in (2019, 2020, 2024):
        r = _row(prov, y, "00")
        assert pd.isna(r["productivity_million_idr_per_worker"])
        assert "PDB nasional" in r["note"] and "bukan PDB" in r["note"]
        assert r["employed_persons"] > 0


def test_papua_2023_on_harmonised_boundary(prov):
    y23 = prov[prov["year"] == 2023]
    assert set(y23["boundary"]) == {"34"}
    assert not y23["region_code"].isin(["92", "95", "96", "97"]).any()
    papua = _row(prov, 2023, "94")
    assert papua["employed_persons"] == 432237 + 201874 + 817169 + 997667
    assert papua["employment_regions"] == "94+95+96+97"
    assert round(papua["productivity_million_idr_per_worker"], 2) == round(181926.53e3 / 2448947, 2)
    assert _row(prov, 2023, "91")["employed_persons"] == 283175 + 277708


def test_growth_null_where_boundary_changed(prov):
    for code in ("91", "94"):
        r = _row(prov, 2024, code)
        assert r["boundary"] == "38"
        assert pd.isna(r["productivity_growth_pct"])
        assert "pemekaran Papua" in r["note"]
    # same territory on both boundaries: growth computed across 2023 -> 2024
    kt = _row(prov, 2024, "64")
    assert kt["productivity_growth_pct"] == pytest.approx((288.813209 / 291.036357 - 1) * 100, abs=1e-4)
    assert _row(prov, 2024, "92")["note"].startswith("pertumbuhan tidak dihitung")


def test_2024_is_38_provinces(prov):
    y24 = prov[(prov["year"] == 2024) & (prov["region_code"] != "00")]
    assert len(y24) == 38 and y24["rank"].max() == 38


def test_boundary_mapping_refuses_only_without_mapping():
    assert to_boundary_code("96", "38", "34") == "94"
    assert to_boundary_code("64", "34", "38") == "64"
    with pytest.raises(BoundaryError):
        to_boundary_code("94", "34", "38")


def test_employment_on_34_cannot_match_38_pdrb(tables):
    grdp, emp = tables
    # pretend 2024 employment was published on the old boundary: 91/94 must not be divided
    e = emp[~((emp["year"] == 2024) & emp["region_code"].isin(["92", "95", "96", "97"]))].copy()
    e.loc[e["year"] == 2024, "boundary"] = "34"
    res = pv.provincial_productivity(grdp, e)
    r = _row(res.frame, 2024, "94")
    assert pd.isna(r["productivity_million_idr_per_worker"])
    assert "penduduk bekerja tidak tersedia" in r["note"]
    assert any("cannot be split" in d for d in res.diagnostics)


def test_kabkota(tables):
    res = pv.kabkota_productivity(*tables)
    f = res.frame
    assert len(f) == 60 and f["region_code"].str.len().eq(4).all()
    counts = f.groupby("year")["productivity_million_idr_per_worker"].count().to_dict()
    assert counts == {2019: 0, 2020: 10, 2021: 4, 2022: 5, 2023: 6, 2024: 10}
    top20 = f[(f["year"] == 2020) & (f["rank"] == 1)].iloc[0]
    assert (
        top20["productivity_million_idr_per_worker"]
        == f[f["year"] == 2020]["productivity_million_idr_per_worker"].max()
    )
    r = _row(f, 2021, "6401")
    assert "4 dari 10" in r["note"]
    assert pd.isna(_row(f, 2019, "6471")["productivity_million_idr_per_worker"])


def test_parquet_rerun_identical(tmp_path, prov, tables):
    st = Storage(tmp_path)
    write_table(st, "a.parquet", frame_to_table(prov, PROVINCIAL_SCHEMA), {"run_id": "one"})
    again = pv.provincial_productivity(*tables).frame
    write_table(st, "b.parquet", frame_to_table(again, PROVINCIAL_SCHEMA), {"run_id": "two"})
    a, b = read_frame(st, "a.parquet"), read_frame(st, "b.parquet")
    pd.testing.assert_frame_equal(a, b)
    meta = file_metadata(st, "a.parquet")
    assert meta["schema_version"] == "1" and meta["run_id"] == "one"
    assert b"unit" in PROVINCIAL_SCHEMA.field("productivity_million_idr_per_worker").metadata


def test_headline_rows_are_jsonable(prov):
    rows = pv.headline_rows(prov)
    json.dumps(rows)
    codes = {(r["year"], r["region_code"]) for r in rows}
    assert {(2023, "64"), (2023, "00"), (2024, "31")} <= codes
