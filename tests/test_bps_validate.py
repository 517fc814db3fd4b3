"""GX validation of the tidy BPS tables catches planted errors; the real bundled tables pass."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from schemas import bps_catalogue as cat
from tasks import bps_tables as bt
from tasks import bps_validate as bv
from tasks.storage import Storage

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def employed() -> pd.DataFrame:
    st = Storage(PROJECT / "data")
    return bt.assemble_employed(
        [
            bt.employed_from_file(st, cat.dataset("employed_province")),
            bt.kabkota_employed_from_file(st, cat.dataset("employed_kabkota")),
        ]
    )


@pytest.fixture(scope="module")
def grdp() -> pd.DataFrame:
    st = Storage(PROJECT / "data")
    # the CSV carries 2019-2023 from the same response, with the "99" sum row
    ds = cat.dataset("pdrb_adhk_province_file")
    all_years = cat.BpsDataset(**{**ds.__dict__, "years": cat.PROVINCIAL_YEARS})
    return bt.assemble_grdp(
        [bt.grdp_from_file(st, all_years), bt.national_pdb_from_file(st, cat.dataset("pdb_adhk_national"))]
    )


def _failed(report: bv.ValidationReport) -> set[str]:
    return {o.check for o in report.hard_failures}


def test_bundled_tables_pass(employed, grdp):
    e, g = bv.validate_employed(employed), bv.validate_grdp(grdp)
    assert e.success, e.lines()
    assert g.success, g.lines()
    sums = next(o for o in g.outcomes if o.check == "provinces_sum_to_aggregate")
    assert sums.success and "5 years" in sums.message
    soft = {o.check: o for o in g.soft_failures}
    assert soft["national_pdb_per_year"].sample == [2019, 2020, 2024]
    assert e.to_dict()["evaluated"] == len(e.outcomes)


def test_planted_code_duplicate_negative(employed):
    bad = employed.copy()
    prov_rows = bad.index[bad["region_level"] == "province"]
    bad.loc[prov_rows[0], "region_code"] = "98"
    bad.loc[prov_rows[10], "employed_persons"] = -5
    bad = pd.concat([bad, bad.loc[[prov_rows[20]]]], ignore_index=True)
    rep = bv.validate_employed(bad)
    failed = _failed(rep)
    assert "expect_column_values_to_be_in_set" in failed
    assert "expect_compound_columns_to_be_unique" in failed
    assert "expect_column_values_to_be_between" in failed
    assert "regions_complete_per_year" in failed
    assert not rep.success
    code_fail = next(o for o in rep.hard_failures if o.check == "expect_column_values_to_be_in_set")
    assert code_fail.sample and code_fail.sample[0]["region_code"] == "98"
    with pytest.raises(bv.BpsValidationError, match="employed_by_region"):
        bv.raise_on_hard(rep)


def test_provinces_must_sum_to_aggregate(grdp):
    bad = grdp.copy()
    i = bad.index[(bad["region_code"] == "64") & (bad["year"] == 2022)][0]
    bad.loc[i, "grdp_adhk2010_billion_idr"] *= 1.5
    rep = bv.validate_grdp(bad)
    out = next(o for o in rep.outcomes if o.check == "provinces_sum_to_aggregate")
    assert not out.success and out.sample[0]["year"] == 2022
    assert not rep.success


def test_zero_value_and_missing_province(grdp):
    bad = grdp.copy()
    bad.loc[
        bad.index[(bad["region_code"] == "11") & (bad["year"] == 2024)][0], "grdp_adhk2010_billion_idr"
    ] = 0.0
    bad = bad[~((bad["region_code"] == "97") & (bad["year"] == 2024))]
    rep = bv.validate_grdp(bad)
    assert {"expect_column_values_to_be_between", "regions_complete_per_year"} <= _failed(rep)
    miss = next(o for o in rep.outcomes if o.check == "regions_complete_per_year")
    assert miss.sample == [{"year": 2024, "boundary": "38", "missing": ["97"], "unexpected": []}]


def test_cache_digests_change_with_any_byte_of_input_code_or_frame(tmp_path):
    from tasks import cache_keys as ck
    from tasks.storage import Storage

    st = Storage(tmp_path)
    st.write_text("raw/a.csv", "x,y\n1,2\n")
    st.write_text("raw/b.csv", "x\n3\n")
    key = ck.files_digest(st, ["raw/a.csv", "raw/b.csv"])
    assert key == ck.files_digest(st, ["raw/a.csv", "raw/b.csv"])
    assert ck.files_digest(st, ["raw/b.csv", "raw/a.csv"]) != key  # which file holds what matters
    assert ck.files_digest(st, ["raw/a.csv", "raw/missing.csv"]) != key  # missing: a key, not an error
    st.write_text("raw/b.csv", "x\n4\n")
    assert ck.files_digest(st, ["raw/a.csv", "raw/b.csv"]) != key

    code = ck.code_digest(["tasks.bps_validate"], packages=["schemas"], distributions=["pandas"])
    assert code == ck.code_digest(["tasks.bps_validate"], packages=["schemas"], distributions=["pandas"])
    assert code != ck.code_digest(["tasks.provincial"], packages=["schemas"], distributions=["pandas"])
    assert code != ck.code_digest(["tasks.bps_validate"], packages=["schemas"], distributions=["numpy"])

    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", None]})
    k = ck.frame_digest(df)
    assert k == ck.frame_digest(df.copy())
    assert ck.frame_digest(df.assign(a=[1.0, 2.5])) != k
    assert ck.frame_digest(df.assign(b=["x", "y"])) != k
    assert ck.frame_digest(df.iloc[::-1]) != k
    assert ck.frame_digest(df.rename(columns={"b": "c"})) != k
