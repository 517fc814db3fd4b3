"""The datacontent decoder on the real var 533 body and on constructed bodies (SPEC §4)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.bps_decode import CELL_COLUMNS, decode_data_response, preliminary_status
from tasks.bps_errors import (
    BpsApiError,
    BpsAuthError,
    BpsNotAvailableError,
    BpsParameterError,
    BpsYearLimitError,
)

ROOT = Path(__file__).resolve().parents[1]
VAR533 = (
    ROOT / "data/raw/bps/snapshot/webapi/domain0000_var533_pdrb_adhk_pengeluaran_provinsi_2010_2024Q2.json"
)
FIXTURES = Path(__file__).parent / "fixtures" / "bps"


@pytest.fixture(scope="module")
def body533() -> dict:
    return json.loads(VAR533.read_text(encoding="utf-8"))


def _cell(cells, **where):
    mask = True
    for col, val in where.items():
        mask = mask & (cells[col] == val)
    out = cells[mask]
    assert len(out) == 1, where
    return out.iloc[0]


def _body(vervar, turvar, tahun, turtahun, content, var=1, **extra) -> dict:
    body = {
        "status": "OK",
        "data-availability": "available",
        "var": [
            {"val": var, "label": "Constructed", "unit": "Persen", "subj": "Uji", "def": "", "decimal": 2}
        ],
        "turvar": [{"val": v, "label": f"T{v}"} for v in turvar],
        "labelvervar": "Wilayah",
        "vervar": [{"val": v, "label": f"V{v}"} for v in vervar],
        "tahun": [{"val": v, "label": str(1900 + v)} for v in tahun],
        "turtahun": [{"val": v, "label": lab} for v, lab in turtahun],
        "datacontent": content,
    }
    body.update(extra)
    return body


def test_real_var533_kaltim_2023_is_the_annual_value_not_q1(body533):
    t = decode_data_response(body533)
    kaltim = _cell(t.cells, vervar_code="6400", year=2023, turvar_code="1550", turtahun_code="35")
    assert kaltim["value"] == pytest.approx(537_630_006.81)
    assert kaltim["turtahun_label"] == "Tahunan" and kaltim["vervar_label"] == "KALIMANTAN TIMUR"
    q1 = _cell(t.cells, vervar_code="6400", year=2023, turvar_code="1550", turtahun_code="31")
    assert q1["value"] == pytest.approx(129_613_661.04)  # what stadata returns as "2023"
    assert t.unit == "Juta Rupiah" and t.var_id == "533" and t.decimal == 2
    assert t.last_update is None
    assert t.labelvervar == "Provinsi (PDRB)"


def test_real_var533_shape_and_diagnostics(body533):
    t = decode_data_response(body533)
    assert list(t.cells.columns) == CELL_COLUMNS
    assert len(t.cells) == 35 * 7 * 14 * 5
    assert int(t.cells["present"].sum()) == 18_130 - 980
    assert len(t.unmatched_keys) == 980
    assert t.collisions == []
    assert any("980 datacontent keys match no combination" in d and "tahun 124" in d for d in t.diagnostics)
    assert str(t.cells["vervar_code"].dtype) == "str" and str(t.cells["value"].dtype) == "float64"
    assert t.cells.loc[t.cells["vervar_code"] == "9999", "is_aggregate"].all()
    assert not t.cells.loc[t.cells["vervar_code"] != "9999", "is_aggregate"].any()
    assert sorted(t.cells["year"].unique()) == list(range(2010, 2024))


def test_preliminary_status_from_real_note(body533):
    t = decode_data_response(body533)
    assert preliminary_status(t.note) == {
        2022: "sementara",
        2023: "sangat sementara",
        2024: "sangat sangat sementara",
    }
    assert preliminary_status("") == {}
    assert preliminary_status("<li>Tahun 2021: Angka Sementara</li>") == {2021: "sementara"}


def test_monthly_january_and_october_are_not_confused():
    # SPEC §4.4: the real Ambon/Tual excerpt, where "121801171" (Jan) is a prefix of "1218011710" (Oct).
    body = json.loads((FIXTURES / "data_var218_monthly.json").read_text(encoding="utf-8"))
    t = decode_data_response(body)
    c = t.cells
    assert _cell(c, vervar_code="1", year=2017, turtahun_code="1")["value"] == pytest.approx(0.28)
    assert _cell(c, vervar_code="1", year=2017, turtahun_code="10")["value"] == pytest.approx(0.21)
    assert _cell(c, vervar_code="1", year=2017, turtahun_code="13")["value"] == pytest.approx(-0.05)
    assert _cell(c, vervar_code="2", year=2022, turtahun_code="10")["value"] == pytest.approx(2.82)
    # absent keys are missing, never zero
    tual_oct_2017 = _cell(c, vervar_code="2", year=2017, turtahun_code="10")
    assert math.isnan(tual_oct_2017["value"]) and not tual_oct_2017["present"]
    assert int(c["present"].sum()) == 6
    assert t.last_update == "2022-11-25 02:42:42" and t.subject == "Harga-Harga" and t.decimal == 2
    assert t.unmatched_keys == [] and t.collisions == []


def test_string_zero_turvar_builds_the_same_key_as_int_zero():
    content = {"1100201230": 5.5}
    as_str = decode_data_response(_body([1100], ["0"], [123], [(0, "Tahun")], content, var=2))
    as_int = decode_data_response(_body([1100], [0], [123], [(0, "Tahun")], content, var=2))
    for t in (as_str, as_int):
        assert t.cells["value"].tolist() == [5.5]
        assert t.cells["turvar_code"].tolist() == ["0"]


def test_collisions_are_reported_and_set_missing():
    # vervar 1 + var 1 + turvar 11 and vervar 11 + var 1 + turvar 1 both build "111" + tahun + turtahun.
    content = {"11111230": 7.0, "1111230": 4.0, "99991230": 9.0}
    t = decode_data_response(_body([1, 11, 2], [1, 11], [123], [(0, "Tahun")], content, var=1))
    assert len(t.collisions) == 1
    col = t.collisions[0]
    assert col["key"] == "11111230" and col["value"] == 7.0
    assert {(x["vervar"], x["turvar"]) for x in col["combinations"]} == {("1", "11"), ("11", "1")}
    for vv, tv in (("1", "11"), ("11", "1")):
        cell = _cell(t.cells, vervar_code=vv, turvar_code=tv)
        assert math.isnan(cell["value"]) and not cell["present"]
    assert _cell(t.cells, vervar_code="1", turvar_code="1")["value"] == 4.0
    assert t.unmatched_keys == ["99991230"]
    assert any("more than one combination" in d for d in t.diagnostics)


def test_value_guards_and_lenient_header():
    content = {
        "1501230": "12.5",
        "2501230": None,
        "3501230": "-",
        "4501230": "",
        "5501230": "abc",
        "6501230": 3,
    }
    body = _body([1, 2, 3, 4, 5, 6], ["0"], [123], [(0, "Tahun")], content, var=5)
    body["var"][0]["decimal"] = "1"
    body["something_new"] = {"x": 1}
    body.pop("turtahun")
    t = decode_data_response(body)
    values = dict(zip(t.cells["vervar_code"], t.cells["value"], strict=True))
    assert values["1"] == 12.5 and values["6"] == 3.0
    assert all(math.isnan(values[k]) for k in "2345")
    assert t.decimal == 1
    assert any("not numbers" in d and "abc" in d for d in t.diagnostics)
    assert any("no turtahun list" in d for d in t.diagnostics)


def test_unmatched_keys_are_a_diagnostic_not_a_failure():
    content = {"1701230": 1.0, "1799991230": 2.0, "17012400": 3.0}
    t = decode_data_response(_body([1], [0], [123], [(0, "Tahun")], content, var=7))
    assert t.cells["value"].tolist() == [1.0]
    assert sorted(t.unmatched_keys) == ["17012400", "1799991230"]
    assert any("2 datacontent keys match no combination" in d for d in t.diagnostics)


@pytest.mark.parametrize(
    ("body", "error", "text"),
    [
        (
            {
                "status": "Error",
                "message": "You are not Allowed to take this action. Please re-check your key",
            },
            BpsAuthError,
            "key",
        ),
        ({"status": "Error", "message": "User not found"}, BpsAuthError, "User not found"),
        (
            {
                "status": "Error",
                "message": "The maximum allowed number of years for the 'th' parameter is 2. You provided 3. "
                "Please reduce the number of years accordingly.",
            },
            BpsYearLimitError,
            "maximum allowed",
        ),
        ({"status": "Error", "message": "Parameter Domain is Missing."}, BpsParameterError, "Domain"),
        (
            {"status": "OK", "data-availability": "not-available", "data": ""},
            BpsNotAvailableError,
            "not-available",
        ),
        (
            {"status": "OK", "data-availability": "list-not-available", "data": ""},
            BpsNotAvailableError,
            "list",
        ),
        ({"status": "OK", "data-availability": "available"}, BpsApiError, "'var'"),
    ],
)
def test_error_bodies_raise_typed_errors(body, error, text):
    with pytest.raises(error) as info:
        decode_data_response(body)
    assert text in str(info.value)
    if error is BpsYearLimitError:
        assert info.value.max_years == 2


def test_decoder_does_not_mutate_the_body(body533):
    before = copy.deepcopy(body533["tahun"])
    decode_data_response(body533)
    assert body533["tahun"] == before


@settings(max_examples=60, deadline=None)
@given(
    vervar=st.lists(st.integers(0, 99999), min_size=1, max_size=4, unique=True),
    turvar=st.lists(st.integers(0, 3000), min_size=1, max_size=3, unique=True),
    tahun=st.lists(st.integers(90, 130), min_size=1, max_size=3, unique=True),
    turtahun=st.lists(st.integers(0, 70), min_size=1, max_size=4, unique=True),
    var=st.integers(1, 9999),
    seed=st.integers(0, 2**31),
)
def test_any_id_widths_decode_back_exactly(vervar, turvar, tahun, turtahun, var, seed):
    import random

    rng = random.Random(seed)
    combos = [(v, t, y, q) for v in vervar for t in turvar for y in tahun for q in turtahun]
    keys = [f"{v}{var}{t}{y}{q}" for v, t, y, q in combos]
    unique = {k for k in keys if keys.count(k) == 1}
    expected = {
        c: float(rng.randint(-1000, 1000)) for c, k in zip(combos, keys, strict=True) if rng.random() < 0.7
    }
    content = {f"{v}{var}{t}{y}{q}": val for (v, t, y, q), val in expected.items()}
    body = _body(vervar, turvar, tahun, [(q, f"Q{q}") for q in turtahun], content, var=var)
    t = decode_data_response(body)
    got = {
        (int(r.vervar_code), int(r.turvar_code), int(r.tahun_id), int(r.turtahun_code)): r.value
        for r in t.cells.itertuples()
    }
    for combo, key in zip(combos, keys, strict=True):
        if key not in unique:
            assert math.isnan(got[combo])  # a collision is never guessed
        elif combo in expected:
            assert got[combo] == expected[combo]
        else:
            assert math.isnan(got[combo])  # absent is missing, never zero
    assert {c["key"] for c in t.collisions} == set(keys) - unique
