"""Small stand-ins for the Parquet outputs the bulletin reads, written under a tmp storage root.

BPS figures are computed from the real published figures bundled in the snapshot; company data
are synthetic, made by a seeded generator and marked "(SINTETIS)". Column names follow the contracts in the bulletin issue (issue 5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from tasks.parquet_io import write_partition, write_table
from tasks.storage import Storage

PROJECT_ROOT = Path(__file__).resolve().parents[1]
_REF_DIRS = [PROJECT_ROOT / "data" / "raw" / "bps" / "snapshot" / "files"]  # the bundled copy, not shared/

STATUS = {2022: "sementara", 2023: "sangat sementara", 2024: "sangat sangat sementara"}
NATIONAL_PDB_BILLION = {2022: 11_710_200.0, 2023: 12_301_400.0}  # reference/README.md
PAPUA_MERGE = {"92": "94", "95": "94", "96": "94", "97": "94", "93": "91", "98": "91"}


def _ref(name: str) -> pd.DataFrame:
    for d in _REF_DIRS:
        for p in (d / name, d / "kaltim" / name):
            if p.exists():
                return pd.read_csv(p, dtype={"province_code": str, "kabkota_code": str, "sector_code": str})
    raise FileNotFoundError(name)


def provincial_frame() -> pd.DataFrame:
    grdp = _ref("grdp_adhk2010_by_province.csv")
    emp = _ref("employed_aug_by_province.csv")
    names = dict(zip(emp["province_code"], emp["province"], strict=False))
    rows = []
    for year in (2022, 2023, 2024):
        g = grdp[(grdp["year"] == year) & (grdp["province_code"] != "99")]
        e = emp[(emp["year"] == year) & (emp["province_code"] != "00")].copy()
        boundary = "38" if year == 2024 else "34"
        if boundary == "34":
            e["province_code"] = e["province_code"].replace(PAPUA_MERGE)
            e = e.groupby("province_code", as_index=False)["employed_persons"].sum()
        m = g.merge(e, on="province_code", how="inner")
        for r in m.itertuples():
            rows.append(
                {
                    "year": year,
                    "region_code": r.province_code,
                    "region_name": names.get(r.province_code, r.province_code),
                    "boundary": boundary,
                    "grdp_adhk2010_billion_idr": float(r.grdp_billion_idr),
                    "employed_persons": int(r.employed_persons),
                }
            )
        nat_emp = int(emp[(emp["year"] == year) & (emp["province_code"] == "00")]["employed_persons"].iloc[0])
        rows.append(
            {
                "year": year,
                "region_code": "00",
                "region_name": "Indonesia",
                "boundary": boundary,
                "grdp_adhk2010_billion_idr": NATIONAL_PDB_BILLION.get(year, np.nan),
                "employed_persons": nat_emp,
            }
        )
    df = pd.DataFrame(rows)
    df["productivity_million_idr_per_worker"] = (
        df["grdp_adhk2010_billion_idr"] * 1000 / df["employed_persons"]
    )
    df = df.sort_values(["region_code", "year"]).reset_index(drop=True)
    prev = df.groupby("region_code")["productivity_million_idr_per_worker"].shift(1)
    prev_b = df.groupby("region_code")["boundary"].shift(1)
    same = prev_b == df["boundary"]
    same |= ~df["region_code"].isin(["91", "94"])
    df["productivity_growth_pct"] = np.where(
        same, (df["productivity_million_idr_per_worker"] / prev - 1) * 100, np.nan
    )
    prov = df["region_code"] != "00"
    df["rank"] = pd.array([pd.NA] * len(df), dtype="Int64")
    df.loc[prov, "rank"] = (
        df[prov]
        .groupby("year")["productivity_million_idr_per_worker"]
        .rank(ascending=False, method="min")
        .astype("Int64")
    )
    df["grdp_status"] = df["year"].map(STATUS)
    df["grdp_source"] = "BPS WebAPI var 533 PDRB ADHK 2010 (snapshot)"
    df["grdp_vintage"] = "respons BPS dengan data sampai Triwulan II 2024"
    df["employment_source"] = "BPS Sakernas Agustus"
    df["employment_vintage"] = "Sakernas Agustus 2024"
    df["note"] = np.where(
        (df["region_code"] == "00") & df["grdp_adhk2010_billion_idr"].isna(),
        "PDB nasional ADHK 2010 tahun ini belum dimuat",
        "",
    )
    return df.sort_values(["year", "region_code"]).reset_index(drop=True)


def kabkota_frame() -> pd.DataFrame:
    emp = _ref("kabkota_employed_aug.csv")
    grdp = _ref("kabkota_grdp_adhk2010.csv")
    e = emp[emp["year"].between(2022, 2024)][["kabkota_code", "name", "year", "employed_persons"]]
    df = e.merge(grdp[["kabkota_code", "year", "grdp_billion_idr"]], on=["kabkota_code", "year"], how="left")
    df = df.rename(
        columns={
            "kabkota_code": "region_code",
            "name": "region_name",
            "grdp_billion_idr": "grdp_adhk2010_billion_idr",
        }
    )
    df["boundary"] = "38"
    df["productivity_million_idr_per_worker"] = (
        df["grdp_adhk2010_billion_idr"] * 1000 / df["employed_persons"]
    )
    df = df.sort_values(["region_code", "year"]).reset_index(drop=True)
    prev = df.groupby("region_code")["productivity_million_idr_per_worker"].shift(1)
    df["productivity_growth_pct"] = (df["productivity_million_idr_per_worker"] / prev - 1) * 100
    df["rank"] = (
        df.groupby("year")["productivity_million_idr_per_worker"]
        .rank(ascending=False, method="min")
        .astype("Int64")
    )
    df["grdp_status"] = df["year"].map(STATUS)
    df["grdp_source"] = "BPS Kaltim, PDRB kabupaten/kota ADHK 2010"
    df["grdp_vintage"] = "rilis April 2025"
    df["employment_source"] = "BPS Sakernas Agustus"
    df["employment_vintage"] = "Sakernas Agustus 2024"
    df["note"] = np.where(df["grdp_adhk2010_billion_idr"].isna(), "PDRB tidak tersedia", "")
    return df.sort_values(["year", "region_code"]).reset_index(drop=True)


def sector_frame() -> pd.DataFrame:
    s = _ref("kaltim_employed_by_sector_aug.csv")
    s = s[s["year"].between(2022, 2024) & (s["sector_code"] != "TOTAL")].copy()
    s["sector_code"] = s["sector_code"].replace({"M,N": "M-N", "R,S,T,U": "R-U"})
    s["share_pct"] = s["employed_persons"] / s.groupby("year")["employed_persons"].transform("sum") * 100
    return s.rename(columns={"sector_code": "pdrb_group"})[
        ["year", "pdrb_group", "sector_name", "employed_persons", "share_pct"]
    ].reset_index(drop=True)


COMPANY_NAMES = [
    "PT Mahakam Sejahtera (SINTETIS)",
    "PT Borneo Karya Mandiri (SINTETIS)",
    "CV Balikpapan Teknik (SINTETIS)",
    "PT Samarinda Pangan (SINTETIS)",
    "PT Kutai Energi Lestari (SINTETIS)",
    "PT Bontang Kimia Nusantara (SINTETIS)",
    "CV Berau Logistik (SINTETIS)",
]
SCRIPT_NAME = "<script>alert('x')</script> PT Uji (SINTETIS)"


def conform(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """``df`` as a table of exactly ``schema``: missing columns null, extra columns dropped."""
    # a stand-in fills only what the bulletin reads: the other columns stay null
    schema = pa.schema([f.with_nullable(True) for f in schema], metadata=schema.metadata)
    cols = {
        f.name: pa.array(df[f.name], type=f.type, from_pandas=True)
        if f.name in df.columns
        else pa.nulls(len(df), f.type)
        for f in schema
    }
    return pa.Table.from_pydict(cols, schema=schema)


def company_frames(
    period: str, seed: int = 7, script_name: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic company indicators and aggregates in the real schemas (seeded; labelled synthetic).

    The aggregates are simple (cells under 3 companies suppressed, no p% rule): what matters here
    is the bulletin's reading of them, not the disclosure method (tests/test_disclosure.py).
    """
    rng = np.random.default_rng(seed + int(period.replace("-", "")))
    names = list(COMPANY_NAMES)
    if script_name:
        names[0] = SCRIPT_NAME
    n = len(names)
    kab = ["6471", "6471", "6471", "6472", "6472", "6474", "6405"]
    grp = ["C", "C", "C", "C", "B", "C", "H"]
    workers = rng.integers(25, 95, n).astype(float)
    va = rng.integers(400, 3000, n) * 1_000_000
    va[2] = -va[2]  # one company with negative value added (flagged, kept)
    lc = (np.abs(va) * rng.uniform(0.3, 0.7, n)).round()
    hours = workers * 173.0
    comp = pd.DataFrame(
        {
            "nib": [f"91200{i:08d}" for i in range(1, n + 1)],
            "company_name": names,
            "kbli_code": ["10110"] * n,
            "kbli_section": grp,
            "kabkota_code": kab,
            "pdrb_group": grp,
            "period": period,
            "value_added_idr": va.astype("int64"),
            "labour_cost_idr": lc.astype("int64"),
            "net_sales_idr": (np.abs(va) * 3).astype("int64"),
            "workers_avg_total": workers,
            "hours_worked": hours,
            "va_per_worker_idr": va / workers,
            "va_per_worker_annualised_idr": va / workers * 12,
            "va_per_hour_idr": va / hours,
            "labour_cost_competitiveness": va / lc,
            "price_basis": "nominal",
            "productivity_index_prev": rng.uniform(90, 115, n),
            "benchmark_productivity_million_idr_per_worker": [
                85.0 if g == "C" else 560.8 if g == "B" else 70.0 for g in grp
            ],
            "benchmark_level": "provincial total",
            "benchmark_source": "BPS (fixture)",
            "benchmark_year": 2024,
            "benchmark_price_basis": "constant 2010 prices",
            "benchmark_ratio": np.nan,
            "benchmark_note_id": "Tanpa deflator: tidak ada rasio terhadap pembanding.",
            "flag_negative_va": va < 0,
            "flag_zero_workers": False,
            "flag_zero_hours": False,
            "flag_zero_labour_cost": False,
            "flag_zero_fixed_assets": True,
            "flag_zero_sales": False,
            "flag_missing_input": False,
            "flag_below_umk": None,
        }
    )
    rows = []
    levels = (("kabkota", "kabkota_code"), ("sector", "pdrb_group"), ("total", None))
    for level, key in levels:
        groups = comp.groupby(key) if key else [("", comp)]
        for code, g in groups:
            k = len(g)
            suppressed = k < 3
            va_sum, w_sum = float(g["value_added_idr"].sum()), float(g["workers_avg_total"].sum())
            rows.append(
                {
                    "period": period,
                    "level": level,
                    "kabkota_code": code if level == "kabkota" else None,
                    "pdrb_group": code if level == "sector" else None,
                    "n_companies": k,
                    "value_added_idr": None if suppressed else va_sum,
                    "workers_avg_total": None if suppressed else w_sum,
                    "va_per_worker_idr": None if suppressed else va_sum / w_sum,
                    "va_per_worker_annualised_idr": None if suppressed else 12 * va_sum / w_sum,
                    "suppressed": suppressed,
                    "suppression_reason": "fewer than 3 companies" if suppressed else None,
                    "suppression_reason_id": "kurang dari 3 perusahaan" if suppressed else None,
                }
            )
    return comp, pd.DataFrame(rows)


def write_fixture(
    root: Path | str,
    period: str = "2025-08",
    *,
    submissions: bool = True,
    script_name: bool = False,
    previous_periods: tuple[str, ...] = ("2025-07",),
) -> Storage:
    """Write every input of the bulletin stage under ``root`` and return its Storage."""
    st = Storage(root)
    write_table(
        st,
        "processed/indicators/provincial_productivity.parquet",
        pa.Table.from_pandas(provincial_frame(), preserve_index=False),
    )
    write_table(
        st,
        "processed/indicators/kabkota_productivity.parquet",
        pa.Table.from_pandas(kabkota_frame(), preserve_index=False),
    )
    write_table(
        st,
        "processed/bps/kaltim_employment_by_sector.parquet",
        pa.Table.from_pandas(sector_frame(), preserve_index=False),
    )
    if not submissions:
        return st
    from schemas.company import AGGREGATES_SCHEMA, COMPANY_INDICATORS_SCHEMA
    from schemas.submission_outputs import (
        accepted_schema,
        quarantine_reasons_schema,
        quarantine_rows_schema,
    )

    for p in (*previous_periods, period):
        comp, agg = company_frames(p, script_name=script_name)
        part = f"period={p}"
        write_partition(st, "processed/indicators/company", part, conform(comp, COMPANY_INDICATORS_SCHEMA))
        write_partition(st, "processed/indicators/aggregates", part, conform(agg, AGGREGATES_SCHEMA))
    comp, _ = company_frames(period, script_name=script_name)
    files = [f"{period}_{n}_SINTETIS.xlsx" for n in comp["nib"]]
    sub = pd.DataFrame(
        {
            "nib": comp["nib"],
            "company_name": comp["company_name"],
            "contact_email": [f"kontak{i}@perusahaan-{i}.invalid" for i in range(1, len(comp) + 1)],
            "period": period,
            "kabkota_code": comp["kabkota_code"],
            "source_file": files,
            "source_row": 2,
            "flags": ["", "", "negative_value_added", "", "", "", ""],
        }
    )
    # 7 accepted rows; quarantined: 3 rows (one with two reasons) and 1 unreadable file;
    # files: 7 accepted + perusahaan_x.csv (2 rows) + 9120000000001's resubmission + rusak.xlsx = 10.
    q_rows = pd.DataFrame(
        {
            "kind": ["row", "row", "row", "file"],
            "source_file": [
                f"{period}_9120000000001_ulang.xlsx",
                "perusahaan_x.csv",
                "perusahaan_x.csv",
                "rusak.xlsx",
            ],
            "source_row": pd.array([2, 2, 3, None], dtype="Int64"),
            "reason_codes": [
                "superseded",
                "invalid_kabkota;workers_sum_mismatch",
                "invalid_kabkota",
                "corrupt_xlsx",
            ],
            "columns": ["nib", "kabkota_code;workers_avg_total", "kabkota_code", ""],
            "reasons_id": [
                "Digantikan",
                "Kode kab/kota salah; jumlah pekerja",
                "Kode kab/kota salah",
                "Rusak",
            ],
            "reasons_en": ["Superseded", "Bad code; workers", "Bad code", "Damaged"],
            "nib": ["9120000000001", "9120000000099", "9120000000098", None],
            "company_name": [COMPANY_NAMES[0], "PT Tanpa Nama (SINTETIS)", "PT Lain (SINTETIS)", None],
        }
    )
    q_reasons = q_rows.assign(reason_code=q_rows["reason_codes"].str.split(";")).explode("reason_code")
    q_reasons = q_reasons.assign(
        column="", severity="hard", rule_id="X", reason_id="alasan", reason_en="reason"
    )
    meta_files = [{"file": f, "status": "read", "rows_read": 1} for f in files] + [
        {"file": "perusahaan_x.csv", "status": "read", "rows_read": 2},
        {"file": f"{period}_9120000000001_ulang.xlsx", "status": "read", "rows_read": 1},
        {"file": "rusak.xlsx", "status": "unreadable", "rows_read": 0},
    ]
    meta = {"run_id": "fixture", "period": period, "rows_read": len(sub) + 3, "files": meta_files}
    write_partition(st, "processed/submissions", f"period={period}", conform(sub, accepted_schema()), meta)
    qdir = f"processed/quarantine/period={period}"
    write_table(st, f"{qdir}/rows.parquet", conform(q_rows, quarantine_rows_schema()), meta)
    write_table(st, f"{qdir}/reasons.parquet", conform(q_reasons, quarantine_reasons_schema()), meta)
    for nib, name in zip(comp["nib"], comp["company_name"], strict=True):
        st.write_text(
            f"processed/receipts/period={period}/{nib}.txt",
            f"TANDA TERIMA\nPerusahaan: {name}\nNIB: {nib}\nPeriode: {period}\nStatus: diterima\n",
        )
        st.write_text(f"processed/receipts/period={period}/{nib}.html", f"<p>Tanda terima {nib}</p>")
    return st
