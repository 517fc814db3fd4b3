"""Indonesian number, date and period parsing (tasks/numbers.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.numbers import parse_dates, parse_numbers, parse_periods


def _num(values, integer=True):
    p = parse_numbers(pd.Series(values, dtype="str"), integer=integer)
    return p.values.tolist(), p.bad.tolist(), p.reason.tolist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234.567", 1234567),
        ("Rp 2.500.000", 2500000),
        ("Rp2.500.000,00", 2500000),
        ("Rp 2.500.000,-", 2500000),
        ("IDR 1.000", 1000),
        ("(1.000)", -1000),
        ("-1.000", -1000),
        ("Rp -1.000", -1000),
        ("-Rp1.000", -1000),
        ("1 234 567", 1234567),
        ("1234567", 1234567),
        ("12.345", 12345),  # Indonesian thousands, never 12.345
        ("1,234,567", 1234567),
        ("1.5E+06", 1500000),
        ("9007199254740993", 9007199254740993),  # beyond float precision: converted exactly
    ],
)
def test_money_formats(text, expected):
    values, bad, _ = _num([text])
    assert values == [expected] and bad == [False]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,5", 1234.5),
        ("1234.5", 1234.5),  # English decimal: 4 digits before the dot cannot be a thousands group
        ("1.5", 1.5),
        ("0.345", 0.345),  # a leading 0 is never a thousands group
        ("0,250", 0.25),
        ("1,234.5", 1234.5),
        ("12,5", 12.5),
        ("12.345", 12345.0),
    ],
)
def test_decimal_formats(text, expected):
    values, bad, _ = _num([text], integer=False)
    assert values == [pytest.approx(expected)] and bad == [False]


def test_missing_is_na_not_zero_and_not_bad():
    values, bad, reason = _num(["", "-", "   ", "—"])
    assert all(pd.isna(v) for v in values)
    assert bad == [False] * 4
    assert all(pd.isna(r) for r in reason)


def test_text_in_numeric_cell_is_bad_never_silent_na():
    values, bad, reason = _num(["abc", "12 orang", "1.2.3,4,5", "n/a"])
    assert bad == [True] * 4
    assert reason == ["not_a_number"] * 4


def test_single_comma_thousand_group_is_ambiguous():
    _, bad, reason = _num(["12,345", "1,234"])
    assert bad == [True, True] and reason == ["ambiguous_number"] * 2


def test_money_rounds_half_away_from_zero_and_overflows_are_flagged():
    values, bad, reason = _num(["1234,5", "-1234,5", "99999999999999999999"])
    assert values[:2] == [1235, -1235]
    assert bad == [False, False, True] and reason[2] == "out_of_range"


def test_excel_typed_cells():
    raw = pd.Series([1234, 12.5, None, "1.000", True, dt.datetime(2025, 1, 1), float("nan")], dtype=object)
    p = parse_numbers(raw, integer=True)
    assert p.values.tolist()[:4] == [1234, 13, pd.NA, 1000]
    assert p.bad.tolist() == [False, False, False, False, True, True, False]
    assert str(p.values.dtype) == "Int64"
    f = parse_numbers(raw, integer=False)
    assert str(f.values.dtype) == "Float64" and f.values[1] == 12.5


@settings(deadline=None, max_examples=50)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_indonesian_grouping_round_trips(n):
    text = f"{abs(n):,}".replace(",", ".")
    text = f"({text})" if n < 0 else text
    values, bad, _ = _num([text])
    assert bad == [False] and values == [n]


def test_dates():
    raw = pd.Series(
        ["2025-09-03", "03/09/2025", "3 September 2025", "3 Agustus 2025", "45903", "31/02/2025", "x", ""],
        dtype="str",
    )
    p = parse_dates(raw)
    got = [None if pd.isna(v) else v.date().isoformat() for v in p.values]
    assert got[:5] == ["2025-09-03", "2025-09-03", "2025-09-03", "2025-08-03", "2025-09-03"]
    assert p.bad.tolist() == [False] * 5 + [True, True, False]
    assert str(p.values.dtype) == "datetime64[s]"


def test_excel_dates():
    raw = pd.Series([dt.datetime(2025, 9, 3, 10, 0), dt.date(2025, 9, 4), 45903, 1.5, None], dtype=object)
    p = parse_dates(raw)
    assert p.values[1] == pd.Timestamp("2025-09-04") and p.values[2] == pd.Timestamp("2025-09-03")
    assert p.bad.tolist() == [False, False, False, True, False]


def test_periods():
    raw = pd.Series(
        [
            "2025-08",
            "Agustus 2025",
            "Agt. 2025",
            "08/2025",
            "8/2025",
            "202508",
            "2025-08-01",
            "2025-13",
            "foo",
            "",
        ],
        dtype="str",
    )
    p = parse_periods(raw)
    assert p.values.tolist()[:7] == ["2025-08"] * 7
    assert p.bad.tolist() == [False] * 7 + [True, True, False]
    typed = parse_periods(pd.Series([dt.datetime(2025, 8, 1), 202508, 3], dtype=object))
    assert typed.values.tolist()[:2] == ["2025-08", "2025-08"] and typed.bad.tolist() == [False, False, True]
