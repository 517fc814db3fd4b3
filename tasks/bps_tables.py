"""Tidy BPS tables: PDRB, PDB and employment by region and year, from decoded WebAPI responses and
bundled files, scaled to the output units, each row carrying its source, var, vintage and status.

The frames built here follow ``schemas.indicators`` (GRDP_SCHEMA, EMPLOYED_SCHEMA, SECTOR_SCHEMA).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from schemas import bps_catalogue as cat
from schemas.boundaries import BOUNDARY_38, detect_boundary
from schemas.codes import NATIONAL_CODE, kabkota_display_name, kaltim_kabkota, pdrb_groups, provinces
from schemas.indicators import (
    EMPLOYED_SCHEMA,
    GRDP_SCHEMA,
    KABKOTA,
    NATIONAL,
    PROVINCE,
    PROVINCE_SUM,
    SECTOR_SCHEMA,
)
from tasks.bps_decode import AGGREGATE_VERVAR, DecodedTable, preliminary_status
from tasks.storage import Storage

PROVINCE_SUM_CODE = "99"


class BpsTableError(ValueError):
    """A BPS table cannot be turned into the tidy form without guessing; the message says what to do."""


@dataclass
class TidyResult:
    frame: pd.DataFrame
    diagnostics: list[str] = field(default_factory=list)


def _norm_label(text: str) -> str:
    t = str(text).upper()
    t = re.sub(r"\bDAERAH ISTIMEWA\b", "DI", t)
    t = re.sub(r"\bDAERAH KHUSUS IBUKOTA\b", "DKI", t)
    return re.sub(r"[^A-Z0-9]", "", t)


def _read_csv(storage: Storage, rel: str, code_cols: Iterable[str]) -> pd.DataFrame:
    if not storage.exists(rel):
        raise BpsTableError(
            f"tabel BPS {rel} tidak ada di {storage.root}. Salin ulang snapshot bawaan (data/raw/bps/snapshot) "
            "atau jalankan dengan kunci BPS WebAPI."
        )
    with storage.open(rel, "rb") as fh:
        return pd.read_csv(fh, dtype={c: "str" for c in code_cols})


# --- WebAPI var 533 --------------------------------------------------------------------------------------


def grdp_from_decoded(
    tables: list[DecodedTable], ds: cat.BpsDataset, vintage: str, source: str | None = None
) -> TidyResult:
    """PDRB by province (and BPS's "34 PROVINSI" sum row as ``99``) from one or more decoded responses.

    Several responses (the WebAPI's th chunks) are merged; a cell seen twice with different values is
    a diagnostic and the later response wins, as it is the newer retrieval.
    """
    if not tables:
        raise BpsTableError(f"dataset {ds.key}: no decoded response to read")
    diagnostics: list[str] = []
    parts = []
    status: dict[int, str] = {}
    for t in tables:
        if str(t.var_id) != str(ds.var):
            raise BpsTableError(f"dataset {ds.key}: response is for var {t.var_id}, expected var {ds.var}")
        factor = cat.scale_factor(t.unit, cat.UNIT_TO_BILLION_IDR, ds.key)
        c = t.cells
        sel = c[
            (c["turvar_code"] == str(ds.turvar))
            & (c["turtahun_label"].str.strip().str.lower() == str(ds.turtahun_label).lower())
            & c["year"].isin(ds.years)
            & c["present"]
        ]
        parts.append(sel.assign(value=sel["value"] * factor, unit_published=t.unit))
        status.update(preliminary_status(t.note))
        for d in t.diagnostics:
            diagnostics.append(f"var {t.var_id}: {d}")
        if not t.last_update:
            diagnostics.append(f"var {t.var_id}: the response has no last_update; vintage is the retrieval")
        title_unit = re.search(r"\b(juta|miliar|milyar|triliun)\s+rupiah\b", t.var_label, re.IGNORECASE)
        if title_unit and title_unit.group(0).lower() != t.unit.strip().lower():
            diagnostics.append(
                f"var {t.var_id}: title says {title_unit.group(0)!r} but the response unit is {t.unit!r}; "
                "the response unit was used"
            )
    other_title_unit = ds.extra.get("unit_in_other_titles")
    units = sorted({t.unit for t in tables})
    if other_title_unit and units != [other_title_unit]:
        diagnostics.append(
            f"var {ds.var}: response unit {', '.join(units)} while other BPS titles of this table say "
            f"{other_title_unit!r}; values scaled from the response unit"
        )
    cells = pd.concat(parts, ignore_index=True)
    if cells.empty:
        raise BpsTableError(
            f"dataset {ds.key}: no cells for turvar {ds.turvar}, turtahun '{ds.turtahun_label}', years "
            f"{ds.years[0]}-{ds.years[-1]} in the BPS response(s). Check the catalogue entry."
        )
    key = ["vervar_code", "year"]
    conflicting = cells.groupby(key)["value"].nunique()
    if (conflicting > 1).any():
        bad = conflicting[conflicting > 1].index.tolist()[:5]
        diagnostics.append(f"var {ds.var}: {int((conflicting > 1).sum())} cells differ between chunks {bad}")
    cells = cells.drop_duplicates(key, keep="last")

    code4 = cells["vervar_code"].astype("str")
    agg = code4 == AGGREGATE_VERVAR
    region_code = code4.str.slice(0, 2).where(~agg, PROVINCE_SUM_CODE)
    names = provinces()
    prov = ~agg
    bad_shape = prov & ~code4.str.fullmatch(r"\d{2}00")
    unknown = prov & ~region_code.isin(list(names))
    if (bad_shape | unknown).any():
        rows = cells.loc[bad_shape | unknown, ["vervar_code", "vervar_label"]].drop_duplicates()
        raise BpsTableError(
            f"var {ds.var}: vervar codes that are not BPS province codes: {rows.to_dict('records')}. "
            "Add them to schemas/codes/provinces.csv only if BPS really created them."
        )
    expected = region_code[prov].map(names).map(_norm_label)
    got = cells.loc[prov, "vervar_label"].map(_norm_label)
    mismatch = expected != got
    if mismatch.any():
        rows = cells.loc[prov].loc[mismatch, ["vervar_code", "vervar_label"]].drop_duplicates()
        raise BpsTableError(
            f"var {ds.var}: vervar labels disagree with the province code list: {rows.to_dict('records')}. "
            "The table's row codes may not be BPS codes; check the table before using it."
        )
    year = cells["year"].astype("int64")
    frame = pd.DataFrame(
        {
            "year": year.to_numpy(),
            "region_code": region_code.to_numpy(),
            "region_name": np.where(agg, cells["vervar_label"], region_code.map(names)),
            "region_level": np.where(agg, PROVINCE_SUM, PROVINCE),
            "boundary": "",
            "grdp_adhk2010_billion_idr": cells["value"].to_numpy(),
            "unit_published": cells["unit_published"].to_numpy(),
            "source": source or ds.source,
            "var": int(ds.var) if ds.var is not None else None,
            "domain": ds.domain,
            "vintage": vintage,
            "status": year.map(status).to_numpy(),
        }
    )
    missing_years = sorted(set(ds.years) - set(frame["year"]))
    if missing_years:
        diagnostics.append(f"var {ds.var}: no annual PDRB in the response for {missing_years}")
    return TidyResult(_set_boundaries(frame), diagnostics)


def _set_boundaries(frame: pd.DataFrame) -> pd.DataFrame:
    """Boundary per year from the province codes present; non-province rows follow their year."""
    prov = frame[frame["region_level"] == PROVINCE]
    by_year = {int(y): detect_boundary(set(g["region_code"])) for y, g in prov.groupby("year")}
    frame = frame.copy()
    frame["boundary"] = frame["year"].map(by_year).fillna(BOUNDARY_38).astype("str")
    return frame


# --- bundled files --------------------------------------------------------------------------------------


def grdp_from_file(storage: Storage, ds: cat.BpsDataset) -> pd.DataFrame:
    """PDRB by province from the bundled CSV, for the catalogue's years (2024: 38 provinces)."""
    raw = _read_csv(storage, ds.file or "", ["province_code"])
    factor = cat.scale_factor(ds.unit, cat.UNIT_TO_BILLION_IDR, ds.key)
    raw = raw[raw["year"].isin(ds.years)]
    agg = raw["province_code"] == PROVINCE_SUM_CODE
    names = provinces()
    unknown = ~agg & ~raw["province_code"].isin(list(names))
    if unknown.any():
        raise BpsTableError(
            f"{ds.file}: province codes not in the code list: {sorted(set(raw.loc[unknown, 'province_code']))}"
        )
    frame = pd.DataFrame(
        {
            "year": raw["year"].astype("int64").to_numpy(),
            "region_code": raw["province_code"].to_numpy(),
            "region_name": np.where(agg, raw["province"], raw["province_code"].map(names)),
            "region_level": np.where(agg, PROVINCE_SUM, PROVINCE),
            "boundary": "",
            "grdp_adhk2010_billion_idr": raw["grdp_billion_idr"].astype("float64").to_numpy() * factor,
            "unit_published": ds.unit,
            "source": raw["source"].to_numpy(),
            "var": None,
            "domain": ds.domain,
            "vintage": ds.vintage,
            "status": None,
        }
    )
    return _set_boundaries(frame)


def national_pdb_from_file(storage: Storage, ds: cat.BpsDataset) -> pd.DataFrame:
    raw = _read_csv(storage, ds.file or "", ["region_code"])
    factor = cat.scale_factor(ds.unit, cat.UNIT_TO_BILLION_IDR, ds.key)
    return pd.DataFrame(
        {
            "year": raw["year"].astype("int64").to_numpy(),
            "region_code": NATIONAL_CODE,
            "region_name": "Indonesia",
            "region_level": NATIONAL,
            "boundary": "",
            "grdp_adhk2010_billion_idr": raw["pdb_adhk2010_billion_idr"].astype("float64").to_numpy()
            * factor,
            "unit_published": ds.unit,
            "source": raw["source"].to_numpy(),
            "var": None,
            "domain": ds.domain,
            "vintage": raw["vintage"].fillna(ds.vintage).to_numpy(),
            "status": None,
        }
    )


def kabkota_grdp_from_file(storage: Storage, ds: cat.BpsDataset) -> pd.DataFrame:
    raw = _read_csv(storage, ds.file or "", ["kabkota_code"])
    _check_kabkota(raw, ds)
    factor = cat.scale_factor(ds.unit, cat.UNIT_TO_BILLION_IDR, ds.key)
    return pd.DataFrame(
        {
            "year": raw["year"].astype("int64").to_numpy(),
            "region_code": raw["kabkota_code"].to_numpy(),
            "region_name": raw["kabkota_code"].map(kabkota_display_name).to_numpy(),
            "region_level": KABKOTA,
            "boundary": BOUNDARY_38,
            "grdp_adhk2010_billion_idr": raw["grdp_billion_idr"].astype("float64").to_numpy() * factor,
            "unit_published": ds.unit,
            "source": raw["source"].to_numpy(),
            "var": None,
            "domain": ds.domain,
            "vintage": ds.vintage,
            "status": None,
        }
    )


def _check_kabkota(raw: pd.DataFrame, ds: cat.BpsDataset) -> None:
    unknown = ~raw["kabkota_code"].isin(list(kaltim_kabkota()))
    if unknown.any():
        raise BpsTableError(
            f"{ds.file}: kab/kota codes not in schemas/codes/kaltim_kabkota.csv: "
            f"{sorted(set(raw.loc[unknown, 'kabkota_code']))}"
        )


def employed_from_file(storage: Storage, ds: cat.BpsDataset) -> pd.DataFrame:
    """Employed persons by province (00 = Indonesia), boundary per year from the codes present."""
    raw = _read_csv(storage, ds.file or "", ["province_code"])
    raw = raw[raw["year"].isin(ds.years)]
    names = provinces()
    nat = raw["province_code"] == NATIONAL_CODE
    unknown = ~nat & ~raw["province_code"].isin(list(names))
    if unknown.any():
        raise BpsTableError(
            f"{ds.file}: province codes not in the code list: {sorted(set(raw.loc[unknown, 'province_code']))}"
        )
    frame = pd.DataFrame(
        {
            "year": raw["year"].astype("int64").to_numpy(),
            "region_code": raw["province_code"].to_numpy(),
            "region_name": np.where(nat, "Indonesia", raw["province_code"].map(names)),
            "region_level": np.where(nat, NATIONAL, PROVINCE),
            "boundary": "",
            "employed_persons": raw["employed_persons"].astype("int64").to_numpy(),
            "source": raw["source"].to_numpy(),
            "vintage": ds.vintage,
        }
    )
    return _set_boundaries(frame)


def kabkota_employed_from_file(storage: Storage, ds: cat.BpsDataset) -> pd.DataFrame:
    raw = _read_csv(storage, ds.file or "", ["kabkota_code"])
    _check_kabkota(raw, ds)
    return pd.DataFrame(
        {
            "year": raw["year"].astype("int64").to_numpy(),
            "region_code": raw["kabkota_code"].to_numpy(),
            "region_name": raw["kabkota_code"].map(kabkota_display_name).to_numpy(),
            "region_level": KABKOTA,
            "boundary": BOUNDARY_38,
            "employed_persons": raw["employed_persons"].astype("int64").to_numpy(),
            "source": raw["source"].to_numpy(),
            "vintage": ds.vintage,
        }
    )


def sector_from_file(storage: Storage, ds: cat.BpsDataset) -> TidyResult:
    """Kaltim employment by the 17 PDRB groups with shares; checks the groups sum to the TOTAL row."""
    raw = _read_csv(storage, ds.file or "", ["province_code", "sector_code"])
    code = raw["sector_code"].str.replace(" ", "").replace({"M,N": "M-N", "R,S,T,U": "R-U"})
    total_mask = code == "TOTAL"
    rows = raw[~total_mask].assign(sector_code=code[~total_mask])
    groups = pdrb_groups()
    unknown = ~rows["sector_code"].isin(list(groups))
    if unknown.any():
        raise BpsTableError(
            f"{ds.file}: sector codes not among the 17 PDRB groups: {sorted(set(rows.loc[unknown, 'sector_code']))}"
        )
    persons = rows["employed_persons"].astype("int64")
    sums = persons.groupby(rows["year"]).sum()
    totals = raw[total_mask].set_index("year")["employed_persons"].astype("int64")
    diagnostics = []
    diff = (sums - totals.reindex(sums.index)).dropna()
    if (diff != 0).any():
        diagnostics.append(f"{ds.file}: sector sums differ from TOTAL in years {diff[diff != 0].to_dict()}")
    share = persons / rows["year"].map(sums) * 100
    frame = pd.DataFrame(
        {
            "year": rows["year"].astype("int64").to_numpy(),
            "region_code": rows["province_code"].to_numpy(),
            "sector_code": rows["sector_code"].to_numpy(),
            "sector_name": rows["sector_name"].to_numpy(),
            "employed_persons": persons.to_numpy(),
            "share_pct": share.to_numpy(),
            "source": rows["source"].to_numpy(),
            "vintage": ds.vintage,
        }
    )
    frame = frame.sort_values(["year", "sector_code"], kind="stable").reset_index(drop=True)
    return TidyResult(frame[SECTOR_SCHEMA.names], diagnostics)


def assemble_grdp(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One PDRB/PDB table; national rows take the boundary of their year's provinces."""
    frame = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    prov = frame[frame["region_level"] == PROVINCE]
    by_year = prov.groupby("year")["boundary"].first().to_dict()
    nat = frame["region_level"] == NATIONAL
    frame.loc[nat, "boundary"] = frame.loc[nat, "year"].map(by_year).fillna(BOUNDARY_38).to_numpy()
    frame["var"] = frame["var"].astype("Int64")
    return _sorted(frame)[GRDP_SCHEMA.names]


def assemble_employed(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    return _sorted(frame)[EMPLOYED_SCHEMA.names]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    level_order = {NATIONAL: 0, PROVINCE_SUM: 1, PROVINCE: 2, KABKOTA: 3}
    return (
        frame.assign(_lvl=frame["region_level"].map(level_order))
        .sort_values(["_lvl", "region_code", "year"], kind="stable")
        .drop(columns="_lvl")
        .reset_index(drop=True)
    )


# --- snapshot manifest ------------------------------------------------------------------------------------


def snapshot_manifest_entries(storage: Storage) -> list[dict]:
    """One manifest entry per bundled snapshot file, from the catalogue and the files' bytes."""
    entries = []
    for ds in cat.DATASETS:
        if not ds.file or not storage.exists(ds.file):
            continue
        entries.append(
            {
                "path": ds.file,
                "dataset": ds.key,
                "url": None,
                "source": ds.source,
                "retrieved_at": None,
                "sha256": hashlib.sha256(storage.read_bytes(ds.file)).hexdigest(),
                "var": ds.var,
                "domain": ds.domain,
                "th": _th_of(storage, ds) if ds.var is not None else None,
                "last_update": None,
                "kind": ds.kind,
                "vintage": ds.vintage,
            }
        )
    return entries


def _th_of(storage: Storage, ds: cat.BpsDataset) -> str | None:
    body = json.loads(storage.read_bytes(ds.file or ""))
    ids = sorted(int(t["val"]) for t in body.get("tahun", []))
    return f"{ids[0]}:{ids[-1]}" if ids else None


def write_snapshot_manifest(storage: Storage) -> str:
    """(Re)build ``raw/bps/snapshot/manifest.jsonl`` from the bundled files."""
    lines = [json.dumps(e, ensure_ascii=False, sort_keys=True) for e in snapshot_manifest_entries(storage)]
    storage.write_text(cat.SNAPSHOT_MANIFEST, "\n".join(lines) + "\n")
    return storage.url(cat.SNAPSHOT_MANIFEST)


def read_snapshot_manifest(storage: Storage) -> list[dict]:
    if not storage.exists(cat.SNAPSHOT_MANIFEST):
        return []
    return [json.loads(x) for x in storage.read_text(cat.SNAPSHOT_MANIFEST).splitlines() if x.strip()]


if __name__ == "__main__":  # pragma: no cover - maintenance: python -m tasks.bps_tables [storage_root]
    import sys

    print(write_snapshot_manifest(Storage(sys.argv[1] if len(sys.argv) > 1 else "data")))
