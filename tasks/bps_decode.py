"""Decode a BPS WebAPI ``model=data`` body into one tidy row per cell (SPEC §4).

The ``datacontent`` keys are plain concatenations ``vervar + var + turvar + tahun + turtahun`` with no
separators or padding, so they cannot be split back safely. Every key the dimension lists describe is
built instead (a cross join) and looked up; absent keys are missing cells, keys that two combinations
build are collisions (reported, never guessed), and keys no combination builds are a diagnostic.
Fixed-width slicing or prefix matching (stadata) mixes up e.g. January ``…1`` and October ``…10``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tasks.bps_errors import BpsApiError, error_from_body

CELL_COLUMNS = [
    "vervar_code",
    "vervar_label",
    "is_aggregate",
    "turvar_code",
    "turvar_label",
    "tahun_id",
    "year",
    "turtahun_code",
    "turtahun_label",
    "value",
    "present",
]
AGGREGATE_VERVAR = "9999"
_DESCRIBE_AT_MOST = 5000  # the unmatched-key summary is a loop; a sample is enough for a person
_EMPTY_VALUES = {"", "-", "--", "...", "null", "none", "nan", "na", "n/a"}


@dataclass
class DecodedTable:
    var_id: str
    var_label: str
    unit: str
    note: str  # as BPS sent it (HTML-escaped); see preliminary_status()
    decimal: int | None
    last_update: str | None
    labelvervar: str
    subject: str
    cells: pd.DataFrame
    diagnostics: list[str] = field(default_factory=list)
    collisions: list[dict] = field(default_factory=list)
    unmatched_keys: list[str] = field(default_factory=list)


def _val_text(v: object) -> str:
    # A float id (1100.0) would otherwise print as "1100.0" and build keys BPS never made.
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _dimension(body: dict, name: str, code_col: str, label_col: str, diagnostics: list[str]) -> pd.DataFrame:
    items = body.get(name)
    if not isinstance(items, list) or not items:
        raise BpsApiError(f"BPS data response has no {name!r} list, so its datacontent keys cannot be built")
    rows = [
        (_val_text(it.get("val")), str(it.get("label", "")).strip()) for it in items if isinstance(it, dict)
    ]
    frame = pd.DataFrame(rows, columns=[code_col, label_col], dtype="str")
    dupes = frame.duplicated()
    if dupes.any():
        diagnostics.append(f"{int(dupes.sum())} repeated entries in the {name} list were ignored")
        frame = frame[~dupes].reset_index(drop=True)
    return frame


def _optional_dimension(
    body: dict, name: str, code_col: str, label_col: str, default_label: str, diagnostics: list[str]
) -> pd.DataFrame:
    items = body.get(name)
    if isinstance(items, list) and items:
        return _dimension(body, name, code_col, label_col, diagnostics)
    # Tables without a derived variable/period still build keys with "0" there (SPEC §4.1, §4.3).
    diagnostics.append(f"response has no {name} list; assumed the single value 0 ({default_label})")
    return pd.DataFrame({code_col: ["0"], label_col: [default_label]}, dtype="str")


def _coerce_values(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers as float64 and a mask of values that were there but are not numbers."""
    if raw.empty:
        return pd.Series([], index=raw.index, dtype="float64"), pd.Series([], index=raw.index, dtype=bool)
    values = raw.to_numpy(dtype=object)
    if set(map(type, values)) <= {int, float}:
        return pd.Series(values.astype("float64"), index=raw.index), pd.Series(False, index=raw.index)
    is_number = np.fromiter(
        (isinstance(v, (int, float)) and not isinstance(v, bool) for v in values),
        dtype=bool,
        count=len(values),
    )
    out = np.full(len(values), np.nan)
    out[is_number] = values[is_number].astype("float64")
    text = pd.Series(values[~is_number], dtype="str").str.strip()
    blank = text.isna() | text.str.lower().isin(_EMPTY_VALUES)
    parsed = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype="float64")
    out[~is_number] = parsed
    bad = np.zeros(len(values), dtype=bool)
    bad[~is_number] = (~blank.to_numpy()) & np.isnan(parsed)
    return pd.Series(out, index=raw.index), pd.Series(bad, index=raw.index)


def _ranges(codes: set[str]) -> str:
    nums = sorted(int(c) for c in codes if c.isdigit())
    parts: list[str] = []
    start = prev = None
    for n in nums:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = n
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    parts.extend(sorted(c for c in codes if not c.isdigit()))
    return ", ".join(parts)


class _Codes:
    """A code list for prefix/suffix look-ups by length (sets, not scans: unmatched keys can be many)."""

    def __init__(self, codes: list[str]) -> None:
        self.codes = set(codes)
        self.lengths = sorted({len(c) for c in codes}, reverse=True)

    def prefix(self, text: str, shorter: bool = False) -> str | None:
        return next(
            (text[:n] for n in self.lengths if (len(text) > n or not shorter) and text[:n] in self.codes),
            None,
        )

    def suffix(self, text: str) -> str | None:
        return next((text[-n:] for n in self.lengths if len(text) > n and text[-n:] in self.codes), None)


def _describe_unmatched(
    keys: list[str], var: str, vervars: list[str], turvars: list[str], tahuns: list[str], turtahuns: list[str]
) -> str:
    """Best-effort reading of keys outside the lists (for a person only; no cell is built from it)."""
    unknown: dict[str, set[str]] = {"vervar": set(), "turvar": set(), "tahun": set(), "turtahun": set()}
    unreadable = 0
    heads = _Codes([v + var for v in vervars])
    tv_codes, th_codes, q_codes = _Codes(turvars), _Codes(tahuns), _Codes(turtahuns)
    tails = _Codes([t + q for t in tahuns for q in turtahuns])
    for key in keys:
        head = heads.prefix(key)
        if head is None:
            unknown["vervar"].add(key)
            continue
        rest = key[len(head) :]
        tv = tv_codes.prefix(rest, shorter=True)
        if tv is not None:
            mid = rest[len(tv) :]
            q = q_codes.suffix(mid)
            if q is not None and mid[: -len(q)] not in th_codes.codes:
                unknown["tahun"].add(mid[: -len(q)])
                continue
            th = th_codes.prefix(mid, shorter=True)
            if th is not None and q is None:
                unknown["turtahun"].add(mid[len(th) :])
                continue
        tail = tails.suffix(rest)
        if tail is not None:
            unknown["turvar"].add(rest[: -len(tail)])
            continue
        unreadable += 1
    parts = []
    for dim in ("turvar", "tahun", "turtahun"):
        if unknown[dim]:
            parts.append(f"{dim} {_ranges(unknown[dim])}")
    if unknown["vervar"]:
        parts.append(f"{len(unknown['vervar'])} keys start with no listed vervar+var")
    if unreadable:
        parts.append(f"{unreadable} not readable")
    return ", ".join(parts)


def _years(tahun: pd.DataFrame, diagnostics: list[str]) -> pd.Series:
    year = pd.to_numeric(
        tahun["tahun_label"].str.extract(r"((?:19|20|21)\d\d)", expand=False), errors="coerce"
    )
    if year.isna().any():
        # Every real response labels tahun with the year; id = year - 1900 is the fallback (SPEC §3).
        bad = sorted(set(tahun.loc[year.isna(), "tahun_label"].to_list()))
        diagnostics.append(f"tahun labels without a year {bad}; year taken as tahun id + 1900")
        year = year.fillna(pd.to_numeric(tahun["tahun_id"], errors="coerce") + 1900)
    return year.fillna(0).astype("int64")


def _header(body: dict) -> tuple[str, str, str, str, int | None, str]:
    vars_ = body.get("var")
    if isinstance(vars_, dict):
        vars_ = [vars_]
    if (
        not isinstance(vars_, list)
        or not vars_
        or not isinstance(vars_[0], dict)
        or vars_[0].get("val") is None
    ):
        raise BpsApiError("BPS data response has no 'var' entry, so its datacontent keys cannot be built")
    v = vars_[0]
    raw_decimal = v.get("decimal")
    try:
        decimal = int(str(raw_decimal).strip()) if raw_decimal not in (None, "") else None
    except ValueError:
        decimal = None
    subjects = body.get("subject")
    subject = ""
    if isinstance(subjects, list) and subjects and isinstance(subjects[0], dict):
        subject = str(subjects[0].get("label", ""))
    subject = subject or str(v.get("subj") or "")
    return (
        _val_text(v["val"]),
        str(v.get("label") or ""),
        str(v.get("unit") or ""),
        str(v.get("note") or ""),
        decimal,
        subject,
    )


def decode_data_response(body: dict) -> DecodedTable:
    """Decode a ``model=data`` body; raises a :mod:`tasks.bps_errors` error when it carries no data."""
    err = error_from_body(body)
    if err is not None:
        raise err
    diagnostics: list[str] = []
    var_id, var_label, unit, note, decimal, subject = _header(body)

    vervar = _dimension(body, "vervar", "vervar_code", "vervar_label", diagnostics)
    turvar = _optional_dimension(body, "turvar", "turvar_code", "turvar_label", "Tidak ada", diagnostics)
    tahun = _dimension(body, "tahun", "tahun_id", "tahun_label", diagnostics)
    tahun["year"] = _years(tahun, diagnostics)
    turtahun = _optional_dimension(body, "turtahun", "turtahun_code", "turtahun_label", "Tahun", diagnostics)

    cells = vervar.merge(turvar, how="cross").merge(tahun, how="cross").merge(turtahun, how="cross")
    keys = cells["vervar_code"] + var_id + cells["turvar_code"] + cells["tahun_id"] + cells["turtahun_code"]

    content = body.get("datacontent")
    if not isinstance(content, dict):
        if content not in (None, "", [], {}):
            diagnostics.append(f"datacontent is a {type(content).__name__}, not an object; read as empty")
        content = {}
    raw = pd.Series(list(content.values()), index=pd.Index(list(content.keys()), dtype="str"), dtype=object)
    numbers, not_numeric = _coerce_values(raw)
    if not_numeric.any():
        sample = ", ".join(f"{k}={raw[k]!r}" for k in raw.index[not_numeric.to_numpy()][:5])
        diagnostics.append(
            f"{int(not_numeric.sum())} datacontent values are not numbers and were read as missing: {sample}"
        )

    cells["value"] = keys.map(numbers).astype("float64").to_numpy()
    cells["present"] = cells["value"].notna().to_numpy()

    collisions: list[dict] = []
    dup = keys.duplicated(keep=False)
    if dup.any():
        dims = ["vervar_code", "turvar_code", "tahun_id", "turtahun_code"]
        clashing = cells.loc[dup, dims].assign(key=keys[dup])
        for key, grp in clashing.groupby("key", sort=True):
            collisions.append(
                {
                    "key": key,
                    "value": numbers.get(key, None) if key in numbers.index else None,
                    "combinations": grp[dims]
                    .rename(
                        columns={
                            "vervar_code": "vervar",
                            "turvar_code": "turvar",
                            "tahun_id": "tahun",
                            "turtahun_code": "turtahun",
                        }
                    )
                    .to_dict("records"),
                }
            )
        cells.loc[dup, "value"] = np.nan
        cells.loc[dup, "present"] = False
        diagnostics.append(
            f"{len(collisions)} datacontent keys are built by more than one combination of the dimension lists "
            f"({int(dup.sum())} cells set missing, not guessed): {', '.join(c['key'] for c in collisions[:5])}"
        )

    built = set(keys.to_list())
    unmatched = [k for k in content if k not in built]
    if unmatched:
        detail = _describe_unmatched(
            unmatched[:_DESCRIBE_AT_MOST],
            var_id,
            vervar["vervar_code"].to_list(),
            turvar["turvar_code"].to_list(),
            tahun["tahun_id"].to_list(),
            turtahun["turtahun_code"].to_list(),
        )
        diagnostics.append(
            f"{len(unmatched)} datacontent keys match no combination of the dimension lists"
            + (f" ({detail})" if detail else "")
        )

    cells["is_aggregate"] = (cells["vervar_code"] == AGGREGATE_VERVAR).to_numpy()

    last_update = body.get("last_update")
    return DecodedTable(
        var_id=var_id,
        var_label=var_label,
        unit=unit,
        note=note,
        decimal=decimal,
        last_update=str(last_update) if last_update not in (None, "") else None,
        labelvervar=str(body.get("labelvervar") or ""),
        subject=subject,
        cells=cells[CELL_COLUMNS].reset_index(drop=True),
        diagnostics=diagnostics,
        collisions=collisions,
        unmatched_keys=unmatched,
    )


_TAG = re.compile(r"<[^>]+>")
_PRELIMINARY = re.compile(r"tahun\s+(\d{4})\s*(?:[:\-–]\s*)?angka\s+((?:sangat\s+)*sementara)", re.IGNORECASE)


def preliminary_status(note: str) -> dict[int, str]:
    """Years a note marks preliminary: ``{2022: "sementara", 2023: "sangat sementara", ...}``.

    BPS writes this in ``var.note`` as escaped HTML ("&lt;li&gt;Tahun 2023: Angka sangat sementara&lt;/li&gt;").
    """
    text = _TAG.sub(" ", html.unescape(html.unescape(note or "")))
    return {
        int(year): " ".join(kind.lower().split())
        for year, kind in _PRELIMINARY.findall(" ".join(text.split()))
    }
