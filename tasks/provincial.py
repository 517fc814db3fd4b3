"""Provincial, national and Kaltim kab/kota labour productivity (Kemnaker method), vectorised.

productivity (million IDR per worker) = PDRB ADHK 2010 (billion IDR) x 1000 / employed persons.
National = national PDB / national employed, never the sum of provinces (it is ~1.1 % higher).
Employment is put on the PDRB's province set of each year before any division; growth compares
rows whose territory is the same in both years.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from schemas.boundaries import (
    BOUNDARY_34,
    BOUNDARY_38,
    BoundaryError,
    map_38_to_34,
    split_codes,
)
from schemas.codes import NATIONAL_CODE, provinces
from schemas.indicators import INDICATOR_FIELDS, KABKOTA, NATIONAL, PROVINCE

INDICATOR_COLUMNS = [f.name for f in INDICATOR_FIELDS]


@dataclass
class IndicatorResult:
    frame: pd.DataFrame
    diagnostics: list[str] = field(default_factory=list)


def harmonise_employment(
    employed: pd.DataFrame, target_boundary: dict[int, str]
) -> tuple[pd.DataFrame, list[str]]:
    """Province employment on the PDRB's boundary of each year.

    38 -> 34 sums the new Papua provinces into their 2021 parents (91, 94) and records the summed codes in
    ``employment_regions``. 34 -> 38 has no mapping for 91/94 (a figure cannot be divided): those rows are
    dropped here and reported, so the PDRB rows they would have matched stay empty with a reason.
    """
    prov = employed[employed["region_level"] == PROVINCE].copy()
    prov["target"] = prov["year"].map(target_boundary)
    diagnostics: list[str] = []
    no_target = prov["target"].isna()
    prov.loc[no_target, "target"] = prov.loc[no_target, "boundary"]

    down = (prov["boundary"] == BOUNDARY_38) & (prov["target"] == BOUNDARY_34)
    up = (prov["boundary"] == BOUNDARY_34) & (prov["target"] == BOUNDARY_38)
    mapping = map_38_to_34()
    unmapped = down & ~prov["region_code"].isin(list(mapping))
    if unmapped.any():
        raise BoundaryError(
            "employment codes without a 34-province mapping in schemas/codes/boundary_map.csv: "
            f"{sorted(set(prov.loc[unmapped, 'region_code']))}"
        )
    prov["orig_code"] = prov["region_code"]
    prov.loc[down, "region_code"] = prov.loc[down, "region_code"].map(mapping)
    unsplittable = up & prov["region_code"].isin(list(split_codes()))
    if unsplittable.any():
        bad = prov.loc[unsplittable, ["year", "region_code"]].drop_duplicates()
        diagnostics.append(
            "employment on the 34-province boundary cannot be split onto 38 provinces for "
            f"{bad.to_dict('records')}; those rows have no productivity"
        )
        prov = prov[~unsplittable]
    grouped = prov.groupby(["year", "region_code"], sort=True)
    out = grouped.agg(
        employed_persons=("employed_persons", "sum"),
        boundary=("target", "first"),
        employment_source=("source", "first"),
        employment_vintage=("vintage", "first"),
        n=("orig_code", "size"),
        employment_regions=("orig_code", lambda s: "+".join(sorted(s))),
    ).reset_index()
    out.loc[out["n"] == 1, "employment_regions"] = None
    return out.drop(columns="n"), diagnostics


def _growth_and_rank(frame: pd.DataFrame, rank_mask: pd.Series) -> pd.DataFrame:
    """Growth vs the previous year (same territory only) and rank within each year among ``rank_mask`` rows."""
    frame = frame.sort_values(["region_code", "year"], kind="stable").reset_index(drop=True)
    prev = frame[["region_code", "year", "productivity_million_idr_per_worker", "boundary"]].copy()
    prev["year"] = prev["year"] + 1
    prev = prev.rename(columns={"productivity_million_idr_per_worker": "_p_prev", "boundary": "_b_prev"})
    frame = frame.merge(prev, on=["region_code", "year"], how="left")
    changed = (
        frame["_b_prev"].notna()
        & (frame["_b_prev"] != frame["boundary"])
        & frame["region_code"].isin(list(split_codes()))
    )
    p = frame["productivity_million_idr_per_worker"]
    growth = (p / frame["_p_prev"] - 1.0) * 100.0
    frame["productivity_growth_pct"] = growth.where(~changed & p.notna() & frame["_p_prev"].notna())
    frame = _add_note(
        frame,
        changed,
        frame["year"].map(
            lambda y: (
                f"pertumbuhan tidak dihitung: wilayah berubah karena pemekaran Papua 2022 (tahun {y - 1} "
                f"pada batas {BOUNDARY_34} provinsi, tahun {y} pada batas {BOUNDARY_38} provinsi)"
            )
        ),
    )
    no_prev = ~changed & p.notna() & frame["_p_prev"].isna() & (frame["year"] > frame["year"].min())
    frame = _add_note(
        frame, no_prev, "pertumbuhan tidak dihitung: produktivitas tahun sebelumnya tidak tersedia"
    )
    frame = frame.drop(columns=["_p_prev", "_b_prev"])

    ranked = rank_mask.reindex(frame.index, fill_value=False) & p.notna()
    ranks = (
        frame.loc[ranked]
        .groupby("year")["productivity_million_idr_per_worker"]
        .rank(ascending=False, method="min")
    )
    frame["rank"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    frame.loc[ranked, "rank"] = ranks.astype("int64").to_numpy()
    counts = frame.loc[ranked].groupby("year").size()
    frame["rank_of"] = frame["year"].map(counts).where(ranked).astype("Int64")
    return frame


def _add_note(frame: pd.DataFrame, mask: pd.Series, text: str | pd.Series) -> pd.DataFrame:
    text_s = text if isinstance(text, pd.Series) else pd.Series(text, index=frame.index)
    old = frame["note"]
    new = np.where(old.notna() & (old != ""), old.astype("str") + "; " + text_s.astype("str"), text_s)
    frame["note"] = pd.Series(np.where(mask, new, old), index=frame.index, dtype="object")
    return frame


def _productivity(grdp: pd.Series, employed: pd.Series) -> pd.Series:
    ok = grdp.notna() & employed.notna() & (employed > 0)
    return (grdp * 1000.0 / employed.astype("float64")).where(ok)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame["employed_persons"] = frame["employed_persons"].astype("Int64")
    frame["grdp_var"] = frame["grdp_var"].astype("Int64")
    frame["note"] = frame["note"].where(frame["note"].notna() & (frame["note"] != ""), None)
    order = {NATIONAL_CODE: "0"}
    frame = frame.assign(_k=frame["region_code"].map(order).fillna("1") + frame["region_code"])
    frame = frame.sort_values(["year", "_k"], kind="stable").drop(columns="_k").reset_index(drop=True)
    return frame[INDICATOR_COLUMNS]


def _grdp_cols(g: pd.DataFrame) -> pd.DataFrame:
    return g.rename(
        columns={
            "source": "grdp_source",
            "var": "grdp_var",
            "vintage": "grdp_vintage",
            "status": "grdp_status",
        }
    )


def provincial_productivity(grdp: pd.DataFrame, employed: pd.DataFrame) -> IndicatorResult:
    """Indonesia + provinces by year from the tidy PDRB/PDB and employment tables (schemas.indicators)."""
    diagnostics: list[str] = []
    gp = grdp[grdp["region_level"] == PROVINCE]
    target = gp.groupby("year")["boundary"].first().to_dict()
    emp, diag = harmonise_employment(employed, target)
    diagnostics += diag

    g = _grdp_cols(gp[["year", "region_code", "region_name", "boundary", "grdp_adhk2010_billion_idr",
                       "source", "var", "vintage", "status"]])  # fmt: skip
    prov = g.merge(emp.drop(columns="boundary"), on=["year", "region_code"], how="outer", indicator=True)
    only_emp = prov["_merge"] == "right_only"
    if only_emp.any():
        diagnostics.append(
            "employment rows with no PDRB row for the same year and region (kept without productivity): "
            f"{prov.loc[only_emp, ['year', 'region_code']].to_dict('records')[:10]}"
        )
    names = provinces()
    prov["region_name"] = prov["region_name"].fillna(prov["region_code"].map(names))
    prov["boundary"] = prov["boundary"].fillna(prov["year"].map(target)).fillna(BOUNDARY_38)
    prov["note"] = None
    prov = _add_note(
        prov, prov["_merge"] == "left_only", "penduduk bekerja tidak tersedia untuk wilayah dan tahun ini"
    )
    prov = _add_note(prov, only_emp, "PDRB ADHK 2010 tidak tersedia untuk wilayah dan tahun ini")
    harmonised = prov["employment_regions"].notna()
    prov = _add_note(
        prov,
        harmonised,
        "penduduk bekerja dijumlahkan ke batas 34 provinsi (" + prov["employment_regions"].fillna("") + ")",
    )
    prov = prov.drop(columns="_merge")

    # National: PDB, never the provinces' sum.
    gn = _grdp_cols(grdp[grdp["region_level"] == NATIONAL][["year", "grdp_adhk2010_billion_idr", "source",
                                                             "var", "vintage", "status"]])  # fmt: skip
    en = employed[employed["region_level"] == NATIONAL][["year", "employed_persons", "source", "vintage"]]
    en = en.rename(columns={"source": "employment_source", "vintage": "employment_vintage"})
    years = sorted(set(prov["year"]) | set(gn["year"]) | set(en["year"]))
    nat = pd.DataFrame({"year": years}).merge(gn, on="year", how="left").merge(en, on="year", how="left")
    nat["region_code"] = NATIONAL_CODE
    nat["region_name"] = "Indonesia"
    nat["boundary"] = nat["year"].map(target).fillna(BOUNDARY_38)
    nat["employment_regions"] = None
    nat["note"] = None
    nat = _add_note(
        nat,
        nat["grdp_adhk2010_billion_idr"].isna(),
        nat["year"].map(
            lambda y: (
                f"PDB nasional ADHK 2010 tahun {y} tidak tersedia dalam data (belum dikonfigurasi); "
                "produktivitas nasional tidak dihitung karena jumlah PDRB provinsi bukan PDB"
            )
        ),
    )
    nat = _add_note(nat, nat["employed_persons"].isna(), "penduduk bekerja nasional tidak tersedia")
    missing_pdb = nat.loc[nat["grdp_adhk2010_billion_idr"].isna(), "year"].tolist()
    if missing_pdb:
        diagnostics.append(f"national PDB not available for {missing_pdb}: national productivity left empty")

    frame = pd.concat([nat, prov], ignore_index=True)
    frame["productivity_million_idr_per_worker"] = _productivity(
        frame["grdp_adhk2010_billion_idr"], frame["employed_persons"]
    )
    frame = _growth_and_rank(frame, frame["region_code"] != NATIONAL_CODE)
    return IndicatorResult(_finish(frame), diagnostics)


def kabkota_productivity(grdp: pd.DataFrame, employed: pd.DataFrame) -> IndicatorResult:
    """Kaltim's regencies/cities by year; productivity where both inputs exist, rank within Kaltim."""
    g = _grdp_cols(grdp[grdp["region_level"] == KABKOTA][["year", "region_code", "region_name", "boundary",
                       "grdp_adhk2010_billion_idr", "source", "var", "vintage", "status"]])  # fmt: skip
    e = employed[employed["region_level"] == KABKOTA][
        ["year", "region_code", "region_name", "boundary", "employed_persons", "source", "vintage"]
    ].rename(columns={"source": "employment_source", "vintage": "employment_vintage"})
    frame = g.merge(e, on=["year", "region_code"], how="outer", suffixes=("", "_e"))
    frame["region_name"] = frame["region_name"].fillna(frame["region_name_e"])
    frame["boundary"] = frame["boundary"].fillna(frame["boundary_e"])
    frame = frame.drop(columns=["region_name_e", "boundary_e"])
    frame["employment_regions"] = None
    frame["note"] = None
    frame = _add_note(
        frame,
        frame["grdp_adhk2010_billion_idr"].isna(),
        frame["year"].map(lambda y: f"PDRB ADHK 2010 kab/kota tahun {y} tidak tersedia dalam data bawaan"),
    )
    frame = _add_note(frame, frame["employed_persons"].isna(), "penduduk bekerja tidak tersedia")
    frame["productivity_million_idr_per_worker"] = _productivity(
        frame["grdp_adhk2010_billion_idr"], frame["employed_persons"]
    )
    frame = _growth_and_rank(frame, pd.Series(True, index=frame.index))
    n_all = frame.groupby("year")["region_code"].transform("size")
    partial = frame["rank"].notna() & (frame["rank_of"] < n_all)
    frame = _add_note(
        frame,
        partial,
        "peringkat di antara "
        + frame["rank_of"].astype("str")
        + " dari "
        + n_all.astype("str")
        + " kab/kota yang datanya tersedia",
    )
    diagnostics = []
    counts = frame.groupby("year")["productivity_million_idr_per_worker"].count()
    short = counts[counts < n_all.groupby(frame["year"]).first()]
    if not short.empty:
        diagnostics.append(f"kab/kota productivity only partly available: {short.to_dict()} of 10 per year")
    return IndicatorResult(_finish(frame), diagnostics)


def headline_rows(frame: pd.DataFrame, years: int = 2, top: int = 3) -> list[dict]:
    """Rows for a table artifact: Indonesia, Kaltim and the top provinces of the latest years."""
    latest = sorted(frame["year"].unique())[-years:]
    sel = frame[frame["year"].isin(latest)]
    mask = sel["region_code"].isin([NATIONAL_CODE, "64"]) | (sel["rank"].fillna(10**6) <= top)
    cols = ["year", "region_code", "region_name", "boundary", "grdp_adhk2010_billion_idr", "employed_persons",
            "productivity_million_idr_per_worker", "productivity_growth_pct", "rank", "grdp_status", "note"]  # fmt: skip
    out = sel.loc[mask, cols].copy()
    for c in ("productivity_million_idr_per_worker", "productivity_growth_pct", "grdp_adhk2010_billion_idr"):
        out[c] = out[c].round(2)
    out = out.astype(object).where(out.notna(), None)
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in out.to_dict("records")
    ]
