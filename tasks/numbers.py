"""Parse numbers, dates and periods the way Indonesian companies write them, over whole columns.

Each parser takes a Series of raw cells (text from CSV, or Python values from XLSX: str, int, float,
datetime) and returns :class:`Parsed`: typed ``values``, a boolean ``bad`` mask of cells that hold
something that is not a value of that kind, and a ``reason`` code per bad cell. Empty cells, "-"
and whitespace are *missing* (NA, not bad, never zero). Text in a numeric cell is always bad: it is
never turned silently into NA.

Number formats and the ambiguity rule
-------------------------------------
- Indonesian: "." groups thousands, "," is the decimal mark: "1.234.567" -> 1234567,
  "1.234,5" -> 1234.5, "Rp 2.500.000" / "Rp2.500.000,00" / "Rp 2.500.000,-" -> 2500000.
- Negative: "-1.000", "(1.000)", "Rp -1.000", "-Rp1.000". Spaces inside ("1 234 567") are ignored.
- When both marks appear, the last one is the decimal mark ("1,234.5" is English -> 1234.5).
- A single "." followed by exactly three digits after 1-3 digits that do not start with 0 is an
  Indonesian thousands separator: **"12.345" is 12345**. Any other single "." is a decimal point
  (English decimals when unambiguous): "1234.5", "1.5", "0.345", "12.3456".
- A single "," followed by exactly three digits ("12,345") could be an Indonesian decimal (12.345)
  or English thousands (12345); it is reported as ``ambiguous_number`` and the company is asked to
  write the number without separators. Other single commas are decimals ("1234,5", "0,250").
- Excel-typed numbers are taken as they are; scientific notation ("1.5E+06") is accepted.
- Money (``integer=True``) is rounded to whole rupiah; digits are converted exactly (no float
  rounding for large rupiah values); values beyond int64 are ``out_of_range``.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MISSING_TOKENS = ("", "-", "–", "—", "--")

MONTHS: dict[str, int] = {
    **dict.fromkeys(("januari", "jan", "january"), 1),
    **dict.fromkeys(("februari", "pebruari", "feb", "peb", "february"), 2),
    **dict.fromkeys(("maret", "mar", "march"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "jun", "june"), 6),
    **dict.fromkeys(("juli", "jul", "july"), 7),
    **dict.fromkeys(("agustus", "agu", "agt", "ags", "agst", "aug", "august"), 8),
    **dict.fromkeys(("september", "sep", "sept"), 9),
    **dict.fromkeys(("oktober", "okt", "oct", "october"), 10),
    **dict.fromkeys(("november", "nopember", "nov", "nop"), 11),
    **dict.fromkeys(("desember", "des", "dec", "december"), 12),
}

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Excel serials for 1955..2119: a bare number outside this is not a date anyone means.
_SERIAL_MIN, _SERIAL_MAX = 20_000, 80_000
_INT64_DIGITS = 18


class Parsed(NamedTuple):
    values: pd.Series  # typed values; NA where missing or bad
    bad: pd.Series  # bool: the cell holds something that is not a value of this kind
    reason: pd.Series  # str reason code where bad, NA elsewhere


# --- shared helpers ----------------------------------------------------------------------------------
def _as_series(raw: pd.Series | list | tuple) -> pd.Series:
    return raw if isinstance(raw, pd.Series) else pd.Series(list(raw), dtype="object")


def _split(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(text, typed): stripped text of string cells (NA otherwise) and non-string, non-null cells.

    CSV columns arrive as ``str`` and take the vectorised path only; XLSX columns are ``object``
    with Python values, which need one type check per cell.
    """
    if isinstance(raw.dtype, pd.StringDtype) or raw.dtype == "str":
        return raw.astype("str").str.strip(), pd.Series(pd.NA, index=raw.index, dtype="object")
    is_text = raw.map(lambda v: isinstance(v, str)).astype(bool)
    text = raw.where(is_text).astype("str").str.strip()
    text = text.where(is_text)
    typed = raw.where(~is_text & raw.notna(), other=None).astype("object")
    typed = typed.where(~is_text & raw.notna())
    return text, typed


def _is_missing_text(text: pd.Series) -> pd.Series:
    return text.isin(MISSING_TOKENS).fillna(False).astype(bool)


def _empty_reason(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NA, index=index, dtype="str")


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


# --- numbers ------------------------------------------------------------------------------------------
# Literal whitespace characters (incl. no-break spaces Excel uses as thousands separators), not
# "\s" or "\u" escapes: those make pandas fall back from pyarrow to a Python loop per cell.
_SPACES = "[ \t\r\n\x0b\x0c\u00a0\u202f\u2009]+"
_RE_CURRENCY = r"(?i)^(?:rp\.?|idr)"
_RE_TRAIL_DASH = r"[.,]-$"
# Plain strings, not compiled patterns: pandas hands those to pyarrow (RE2) instead of looping in Python.
# kind -> (grouping mark to drop, decimal mark to turn into ".")
_NORMALISE: dict[str, tuple[str, str]] = {
    "plain": ("", ""),
    "id_thousands": (".", ","),
    "en_thousands": (",", ""),
    "en_thousands_dec": (",", ""),
    "id_decimal": ("", ","),
    "en_decimal": ("", ""),
    "scientific": ("", ","),
}
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("plain", r"^(?P<i>\d+)$"),
    ("id_thousands", r"^(?P<i>[1-9]\d{0,2}(?:\.\d{3})+)(?:,(?P<f>\d+))?$"),
    ("en_thousands", r"^(?P<i>[1-9]\d{0,2}(?:,\d{3}){2,})(?:\.(?P<f>\d+))?$"),
    ("en_thousands_dec", r"^(?P<i>[1-9]\d{0,2}(?:,\d{3})+)\.(?P<f>\d+)$"),
    ("ambiguous", r"^[1-9]\d{0,2},\d{3}$"),
    ("id_decimal", r"^(?P<i>\d*),(?P<f>\d+)$"),
    ("en_decimal", r"^(?P<i>\d*)\.(?P<f>\d+)$"),
    ("scientific", r"^(?P<s>\d+(?:[.,]\d+)?[eE][+-]?\d+)$"),
)


def _strip_sign_and_currency(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Remove spaces, currency marks and sign; return (body, negative)."""
    body = text.str.replace(_SPACES, "", regex=True)
    body = body.str.replace(_RE_TRAIL_DASH, "", regex=True)
    neg = pd.Series(False, index=text.index)
    # Two passes cover "Rp (1.000)", "(Rp 1.000)", "-Rp1.000" and "Rp-1.000".
    for _ in range(2):
        paren = body.str.fullmatch(r"\(.*\)").fillna(False).astype(bool)
        body = body.mask(paren, body.str.slice(1, -1))
        minus = body.str.match(r"^[-−]").fillna(False).astype(bool)
        body = body.mask(minus, body.str.slice(1))
        plus = body.str.match(r"^\+").fillna(False).astype(bool)
        body = body.mask(plus, body.str.slice(1))
        body = body.str.replace(_RE_CURRENCY, "", regex=True)
        neg = neg | paren | minus
    return body, neg


def _to_float(s: pd.Series) -> pd.Series:
    """float64 from clean numeric text via pyarrow's C cast (pd.to_numeric loops per cell here)."""
    try:
        arr = pa.array(s.astype("str").to_numpy(dtype=object, na_value=None), type=pa.string())
        return pd.Series(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), index=s.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(s, errors="coerce").astype("float64")


def _parse_text_numbers(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """For non-empty text cells: (normalised "1234567.5" text, negative, scientific, reason)."""
    idx = text.index
    norm = pd.Series(pd.NA, index=idx, dtype="str")
    neg = pd.Series(False, index=idx)
    sci = pd.Series(False, index=idx)
    reason = _empty_reason(idx)
    # Most cells are bare digits with "." or "," marks: only the rest go through sign/currency stripping.
    simple = text.str.fullmatch(r"[0-9][0-9.,]*").fillna(False).astype(bool)
    body = text.copy()
    if not simple.all():
        b, n = _strip_sign_and_currency(text[~simple])
        body[~simple] = b
        neg[~simple] = n.to_numpy()
    matched = pd.Series(False, index=idx)
    for kind, pattern in _PATTERNS:
        todo = ~matched
        if not todo.any():
            break
        sub_all = body[todo]
        hit_sub = sub_all.str.fullmatch(pattern).fillna(False).astype(bool)
        if not hit_sub.any():
            continue
        hit = pd.Series(False, index=idx)
        hit[hit_sub.index[hit_sub.to_numpy()]] = True
        matched |= hit
        if kind == "ambiguous":
            reason[hit] = "ambiguous_number"
            continue
        grouping, decimal_mark = _NORMALISE[kind]
        sub = sub_all[hit_sub]
        if grouping:
            sub = sub.str.replace(grouping, "", regex=False)
        if decimal_mark:
            sub = sub.str.replace(decimal_mark, ".", regex=False)
        norm[hit] = sub
        if kind == "scientific":
            sci |= hit
    reason[~matched] = "not_a_number"
    return norm, neg, sci, reason


def parse_numbers(raw: pd.Series | list, *, integer: bool = False) -> Parsed:
    """Numbers from Indonesian/English formatted text or Excel numbers (see module docstring).

    ``integer=True`` returns ``Int64`` (whole rupiah), otherwise ``Float64``.
    """
    raw = _as_series(raw)
    idx = raw.index
    text, typed = _split(raw)
    reason = _empty_reason(idx)
    norm = pd.Series(pd.NA, index=idx, dtype="str")  # "1234567.5": digits, at most one "."
    neg = pd.Series(False, index=idx)
    sci = pd.Series(False, index=idx)
    has_text = text.notna() & ~_is_missing_text(text)
    if has_text.any():
        n_, neg_, sci_, reason_ = _parse_text_numbers(text[has_text])
        norm[has_text], neg[has_text], sci[has_text] = n_, neg_, sci_
        reason[has_text] = reason_
    int_part = norm.str.replace(r"\..*$", "", regex=True).mask(sci)
    int_part = int_part.mask(int_part == "", "0")
    frac_part = norm.str.replace(r"^[^.]*\.?", "", regex=True).mask(sci)

    # Values as float (for decimals and typed cells) and, for money, exact integers from digits.
    as_float = _to_float(norm)
    if typed.notna().any():
        typed_num = typed.map(_is_number).astype(bool) & typed.notna()
        reason = reason.mask(typed.notna() & ~typed_num, "not_a_number")
        typed_vals = pd.to_numeric(typed.where(typed_num), errors="coerce").astype("float64")
        reason = reason.mask(typed_num & ~np.isfinite(typed_vals.fillna(0.0)), "not_a_number")
        as_float = as_float.where(~typed_num, typed_vals)
    as_float = as_float * np.where(neg.to_numpy(dtype=bool), -1.0, 1.0)

    if integer:
        too_long = int_part.str.len().fillna(0).astype(int) > _INT64_DIGITS
        too_big = as_float.abs() >= 9.2e18
        over = (too_long | too_big.fillna(False)) & reason.isna()
        reason = reason.mask(over, "out_of_range")
        ok = reason.isna()
        exact = ok & int_part.notna() & frac_part.str.fullmatch(r"0*").fillna(False).astype(bool)
        values = pd.Series(pd.NA, index=idx, dtype="Int64")
        if exact.any():
            digits = int_part[exact]
            arr = pa.array(digits.astype("str").to_numpy(dtype=object), type=pa.string())
            ints = pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False)
            ints = ints * np.where(neg[exact].to_numpy(dtype=bool), -1, 1)
            values[exact] = pd.array(ints, dtype="Int64")
        rest = ok & ~exact & as_float.notna()
        if rest.any():
            # Half a rupiah rounds away from zero, as people round money by hand.
            x = as_float[rest]
            values[rest] = (np.sign(x) * np.floor(x.abs() + 0.5)).astype("int64")
    else:
        values = as_float.where(reason.isna()).astype("Float64")
        over = values.notna() & ~np.isfinite(values.fillna(0.0).astype("float64"))
        reason = reason.mask(over, "out_of_range")
        values = values.mask(over)
    bad = reason.notna()
    return Parsed(values, bad, reason)


# --- dates and periods ----------------------------------------------------------------------------------
_RE_ISO = r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_RE_DMY = r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})$"
_RE_DMONY = r"^(?P<d>\d{1,2})[ .-]+(?P<mon>[A-Za-z]+)\.?[ .-]+(?P<y>\d{4})$"
_RE_SERIAL = r"^(?P<n>\d{5})(?:\.0+)?$"


def _month_number(names: pd.Series) -> pd.Series:
    return names.str.lower().map(MONTHS).astype("Float64")


def _ymd_frame(text: pd.Series) -> pd.DataFrame:
    """Year, month, day columns (Float64, NA when no pattern matched) from date text."""
    out = pd.DataFrame(
        {k: pd.Series(pd.NA, index=text.index, dtype="Float64") for k in ("y", "m", "d", "serial")}
    )
    # The everyday "2025-09-03" by slicing (pyarrow, vectorised); str.extract below loops in Python.
    # It is the case of _RE_ISO with two-digit month and day and nothing after.
    iso = text.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False).astype(bool)
    if iso.any():
        t = text[iso]
        for key, (a, b) in {"y": (0, 4), "m": (5, 7), "d": (8, 10)}.items():
            out.loc[iso, key] = pd.to_numeric(t.str.slice(a, b)).astype("Float64")
    for pattern in (_RE_ISO, _RE_DMY, _RE_DMONY, _RE_SERIAL):
        todo = out[["y", "serial"]].isna().all(axis=1) & text.notna()
        if not todo.any():
            break
        # str.extract loops in Python, so it only sees the cells still unparsed.
        parts = text[todo].str.extract(pattern).reindex(text.index)
        hit = parts.notna().any(axis=1)
        if not hit.any():
            continue
        if "n" in parts:
            out.loc[hit, "serial"] = pd.to_numeric(parts.loc[hit, "n"]).astype("Float64")
            continue
        month = _month_number(parts["mon"]) if "mon" in parts else pd.to_numeric(parts["m"])
        out.loc[hit, "y"] = pd.to_numeric(parts.loc[hit, "y"]).astype("Float64")
        out.loc[hit, "m"] = pd.Series(month, index=parts.index)[hit].astype("Float64")
        out.loc[hit, "d"] = pd.to_numeric(parts.loc[hit, "d"]).astype("Float64")
    return out


def _typed_to_timestamp(typed: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(timestamps, bad) for XLSX-typed cells: datetimes/dates as-is, numbers as Excel serials."""
    ts = pd.Series(pd.NaT, index=typed.index, dtype="datetime64[s]")
    present = typed.notna()
    if not present.any():
        return ts, pd.Series(False, index=typed.index)
    is_dt = typed.map(lambda v: isinstance(v, (dt.date, pd.Timestamp, np.datetime64))).astype(bool)
    is_num = typed.map(_is_number).astype(bool) & present
    if is_dt.any():
        ts.loc[is_dt] = pd.to_datetime(typed[is_dt].map(pd.Timestamp)).astype("datetime64[s]")
    if is_num.any():
        n = pd.to_numeric(typed[is_num], errors="coerce")
        in_range = (n >= _SERIAL_MIN) & (n <= _SERIAL_MAX)
        days = pd.to_timedelta(n.where(in_range).round(), unit="D")
        ts.loc[is_num] = (_EXCEL_EPOCH + days).astype("datetime64[s]")
    bad = present & ts.isna()
    return ts, bad


def parse_dates(raw: pd.Series | list) -> Parsed:
    """Dates: "2025-09-03", "03/09/2025" (always day/month/year), "3 September 2025" (Indonesian or
    English month names), Excel dates and Excel serial numbers. Returns ``datetime64[s]``."""
    raw = _as_series(raw)
    idx = raw.index
    text, typed = _split(raw)
    has_text = text.notna() & ~_is_missing_text(text)
    text = text.where(has_text)
    parts = _ymd_frame(text)
    ymd = parts[["y", "m", "d"]].astype("float64")
    complete = ymd.notna().all(axis=1)
    values = pd.Series(pd.NaT, index=idx, dtype="datetime64[s]")
    if complete.any():
        c = ymd[complete].astype("int64")
        values.loc[complete] = pd.to_datetime(
            pd.DataFrame({"year": c["y"], "month": c["m"], "day": c["d"]}), errors="coerce"
        ).astype("datetime64[s]")
    serial = parts["serial"].astype("float64")
    use_serial = serial.between(_SERIAL_MIN, _SERIAL_MAX)
    if use_serial.any():
        values.loc[use_serial] = (_EXCEL_EPOCH + pd.to_timedelta(serial[use_serial], unit="D")).astype(
            "datetime64[s]"
        )
    typed_ts, typed_bad = _typed_to_timestamp(typed)
    values = values.fillna(typed_ts)
    reason = _empty_reason(idx)
    reason = reason.mask(has_text & values.isna(), "not_a_date")
    reason = reason.mask(typed_bad, "not_a_date")
    return Parsed(values, reason.notna(), reason)


_RE_Y_M = r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})$"
_RE_M_Y = r"^(?P<m>\d{1,2})[-/.](?P<y>\d{4})$"
_RE_MON_Y = r"^(?P<mon>[A-Za-z]+)\.?[ .-]+(?P<y>\d{4})$"
_RE_YYYYMM = r"^(?P<y>\d{4})(?P<m>\d{2})$"


def parse_periods(raw: pd.Series | list) -> Parsed:
    """Periods as "YYYY-MM" from "2025-08", "08/2025", "Agustus 2025", "202508", a full date
    (its month) or an Excel date. Returns a ``str`` series."""
    raw = _as_series(raw)
    idx = raw.index
    text, typed = _split(raw)
    has_text = text.notna() & ~_is_missing_text(text)
    text = text.where(has_text)
    year = pd.Series(np.nan, index=idx, dtype="float64")
    month = pd.Series(np.nan, index=idx, dtype="float64")
    # The everyday "2025-08" by slicing (pyarrow, vectorised); str.extract below loops in Python.
    ym = text.str.fullmatch(r"[0-9]{4}-[0-9]{2}").fillna(False).astype(bool)
    if ym.any():
        year = year.mask(ym, pd.to_numeric(text.where(ym).str.slice(0, 4)).astype("float64"))
        month = month.mask(ym, pd.to_numeric(text.where(ym).str.slice(5, 7)).astype("float64"))
    for pattern in (_RE_Y_M, _RE_M_Y, _RE_MON_Y, _RE_YYYYMM):
        todo = year.isna() & has_text
        if not todo.any():
            break
        parts = text[todo].str.extract(pattern).reindex(idx)
        hit = parts["y"].notna()
        if not hit.any():
            continue
        m = _month_number(parts["mon"]) if "mon" in parts else pd.to_numeric(parts["m"])
        year = year.mask(hit, pd.to_numeric(parts["y"]).astype("float64"))
        month = month.mask(hit, pd.Series(m, index=idx).astype("float64"))
    # A full date written in a period cell names its month.
    rest = has_text & year.isna()
    if rest.any():
        d = parse_dates(text.where(rest))
        year = year.mask(rest, d.values.dt.year.astype("float64"))
        month = month.mask(rest, d.values.dt.month.astype("float64"))
    # Excel may hold 202508 as a number in a period cell.
    is_num = typed.map(_is_number).astype(bool) if typed.notna().any() else typed.notna()
    yyyymm = pd.to_numeric(typed.where(is_num), errors="coerce")
    yyyymm = yyyymm.where((yyyymm % 1 == 0) & yyyymm.between(190001, 210012))
    year = year.fillna(yyyymm // 100)
    month = month.fillna(yyyymm % 100)
    typed = typed.where(yyyymm.isna())
    typed_ts, typed_bad = _typed_to_timestamp(typed)
    year = year.fillna(typed_ts.dt.year.astype("float64"))
    month = month.fillna(typed_ts.dt.month.astype("float64"))
    valid = year.between(1900, 2100) & month.between(1, 12)
    values = pd.Series(pd.NA, index=idx, dtype="str")
    if valid.any():
        y = year[valid].astype("int64").astype("str")
        m = month[valid].astype("int64").astype("str").str.zfill(2)
        values.loc[valid] = y + "-" + m
    reason = _empty_reason(idx)
    reason = reason.mask((has_text & ~valid) | typed_bad, "not_a_period")
    return Parsed(values, reason.notna(), reason)
