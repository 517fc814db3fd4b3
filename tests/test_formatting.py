"""BPS-style Indonesian formatting (and the English option)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks import formatting as F


@pytest.mark.parametrize(
    ("fn", "args", "expected"),
    [
        (F.rupiah_million, (288.84,), "Rp288,8 juta"),
        (F.rupiah_million, (288.84, 1, "en"), "IDR 288.8 million"),
        (F.number, (87.955, 2), "87,96"),  # half up, not Babel's half-even
        (F.number, (87.96, 2, "en"), "87.96"),
        (F.number, (2.5, 0), "3"),
        (F.number, (-0.0001, 2), "0,00"),  # no "-0,00"
        (F.number, (-0.234, 2), "-0,23"),
        (F.percent, (5.03,), "5,03 persen"),
        (F.percent, (5.03, 2, "en"), "5.03 percent"),
        (F.persons, (1847295,), "1.847.295 orang"),
        (F.persons, (1847295, "en"), "1,847,295 persons"),
        (F.period_label, ("2025-08",), "Agustus 2025"),
        (F.period_label, ("2025-08", "en"), "August 2025"),
        (F.period_label, ("2025-05",), "Mei 2025"),
        (F.long_date, (date(2023, 11, 6),), "6 November 2023"),
        (F.long_date, (date(2023, 11, 6), "en"), "November 6, 2023"),
        (F.change_points, (0.85,), "naik 0,85 persen poin"),
        (F.change_points, (-0.404,), "turun 0,40 persen poin"),
        (F.change_percent, (-0.7639,), "turun 0,76 persen"),
        (F.change_percent, (5.031, 2, "en"), "up 5.03 percent"),
        (F.change_percent, (0.001,), "tetap"),
        (F.rupiah, (215_760_000,), "Rp215,8 juta"),
        (F.rupiah, (843_570_000_000_000, 2), "Rp843,57 triliun"),
        (F.rupiah, (1_250_000_000,), "Rp1,3 miliar"),
        (F.rupiah, (50_000,), "Rp50.000"),
        (F.rupiah, (-2_500_000,), "-Rp2,5 juta"),
        (F.year_label, (2024, "sangat sangat sementara"), "2024***"),
        (F.year_label, (2022, "sementara"), "2022*"),
        (F.year_label, (2021, None), "2021"),
    ],
)
def test_formats(fn, args, expected):
    assert fn(*args) == expected


def test_missing_values_print_as_dash():
    for fn in (F.number, F.percent, F.rupiah_million, F.rupiah, F.persons, F.signed):
        assert fn(float("nan")) == "-"
        assert fn(None) == "-"


def test_catalogue_has_same_keys_in_both_languages():
    assert set(F.MESSAGES["id"]) == set(F.MESSAGES["en"])
    assert (
        F.t("title", "id", period="Agustus 2025")
        == "Produktivitas Tenaga Kerja Kalimantan Timur Agustus 2025"
    )
    assert F.t("suppressed") == "tidak dipublikasikan (kerahasiaan)"


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language"):
        F.check_lang("fr")


@settings(max_examples=400, deadline=None)
@given(
    x=st.one_of(
        st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
        st.integers(min_value=-(10**12), max_value=10**12),
    ),
    decimals=st.integers(min_value=0, max_value=3),
    lang=st.sampled_from(["id", "en"]),
)
def test_number_is_babels_pattern_text(x: float, decimals: int, lang: str) -> None:
    """``number`` formats without Babel for speed; its text must stay Babel's ``#,##0.00`` for the locale."""
    from babel.numbers import format_decimal

    value = F.round_half_up(float(x), decimals)
    value = abs(value) if value == 0 else value
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    locale = {"id": "id_ID", "en": "en_US"}[lang]
    assert F.number(x, decimals, lang) == format_decimal(
        value, pattern, locale=locale, decimal_quantization=True
    )


@settings(max_examples=400, deadline=None)
@given(
    x=st.one_of(
        st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
        st.sampled_from([-0.005, 0.005, -0.0049, -1_234_567.5, -999_999.995, 2.345, -2.345]),
    ),
    decimals=st.integers(min_value=0, max_value=3),
    lang=st.sampled_from(["id", "en"]),
)
def test_money_rounds_once_as_the_signed_value_would(x: float, decimals: int, lang: str) -> None:
    """``_money`` rounds the magnitude once; the text must be what rounding the signed value gives."""
    sign = "-" if F.round_half_up(x, decimals) < 0 else ""
    prefix = "Rp" if lang == "id" else "IDR "
    want = f"{sign}{prefix}{F.number(abs(x), decimals, lang)} {F.t('million', lang)}"
    assert F._money(x, "million", decimals, lang) == want
