"""Small SYNTHETIC accepted-submission frames for the company-stage tests (seeded, not real companies).

Columns follow the accepted-submission contract (processed/submissions/period=YYYY-MM/*.parquet).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.codes import pdrb_group_code

MONEY = (
    "net_sales", "other_operating_income", "chg_inventory_fg_wip", "purch_raw_materials", "purch_energy",
    "purch_services", "purch_goods_for_resale", "wages_salaries", "employer_social_contrib", "other_benefits",
    "fixed_assets_nbv_open", "fixed_assets_nbv_close", "depreciation", "capex",
)  # fmt: skip
PERSONS = ("workers_avg_total", "workers_pkwtt", "workers_pkwt", "workers_outsourced", "workers_unpaid",
           "workers_female")  # fmt: skip
HOURS = ("hours_normal", "hours_overtime")

SECTION_KBLI = {"A": "01111", "B": "05100", "C": "10110", "F": "41011", "G": "46100", "H": "49411",
                "I": "55110", "M": "70209", "R": "93110"}  # fmt: skip


def base_row(**overrides: object) -> dict:
    """One accepted row with round, hand-checkable numbers (VA = 60 juta, LC = 25 juta, 10 workers)."""
    row: dict = {
        "nib": "1234567890123",
        "company_name": "PT Contoh Sintetis",
        "kbli_code": "10110",
        "kbli_section": "C",
        "pdrb_group": "C",
        "kabkota_code": "6472",
        "contact_email": "contoh@example.invalid",
        "period": "2025-08",
        "submitted_on": date(2025, 9, 3),
        "net_sales": 100_000_000,
        "other_operating_income": 5_000_000,
        "chg_inventory_fg_wip": -2_000_000,
        "purch_raw_materials": 30_000_000,
        "purch_energy": 5_000_000,
        "purch_services": 8_000_000,
        "purch_goods_for_resale": 0,
        "wages_salaries": 20_000_000,
        "employer_social_contrib": 3_000_000,
        "other_benefits": 2_000_000,
        "fixed_assets_nbv_open": 400_000_000,
        "fixed_assets_nbv_close": 380_000_000,
        "depreciation": 20_000_000,
        "capex": None,
        "workers_avg_total": 10.0,
        "workers_pkwtt": 6.0,
        "workers_pkwt": 4.0,
        "workers_outsourced": 0.0,
        "workers_unpaid": 0.0,
        "workers_female": 3.0,
        "hours_normal": 1600.0,
        "hours_overtime": 100.0,
        "source_file": "raw/submissions/2025-08/contoh.xlsx",
        "source_row": 2,
    }
    row.update(overrides)
    return row


def frame(rows: list[dict]) -> pd.DataFrame:
    """Rows -> a frame with the accepted-submission dtypes (int64 money, capex nullable, strings for codes)."""
    df = pd.DataFrame(rows)
    for c in MONEY:
        df[c] = df[c].astype("Int64") if df[c].isna().any() else df[c].astype("int64")
    for c in (*PERSONS, *HOURS):
        df[c] = df[c].astype("float64")
    df["source_row"] = df["source_row"].astype("int64")
    return df


def synthetic_panel(
    n_companies: int,
    period: str = "2025-08",
    seed: int = 7,
    kabkota_codes: tuple[str, ...] = ("6401", "6472", "6471"),
    sections: tuple[str, ...] = ("B", "C", "G"),
) -> pd.DataFrame:
    """A seeded SYNTHETIC period: ``n_companies`` medium firms spread over the given regencies and sections."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_companies):
        sec = sections[int(rng.integers(len(sections)))]
        workers = float(rng.integers(20, 100))
        sales = int(rng.integers(200, 5000)) * 1_000_000
        inputs = int(sales * rng.uniform(0.3, 0.8))
        wages = int(workers * rng.uniform(3.0, 6.0) * 1_000_000)
        fa = int(rng.integers(500, 20000)) * 1_000_000
        rows.append(
            base_row(
                nib=f"{9100000000000 + i:013d}",
                company_name=f"PT Sintetis {i:03d}",
                kbli_code=SECTION_KBLI[sec],
                kbli_section=sec,
                pdrb_group=pdrb_group_code(sec),
                kabkota_code=kabkota_codes[int(rng.integers(len(kabkota_codes)))],
                period=period,
                net_sales=sales,
                other_operating_income=0,
                chg_inventory_fg_wip=0,
                purch_raw_materials=int(inputs * 0.6),
                purch_energy=int(inputs * 0.15),
                purch_services=inputs - int(inputs * 0.6) - int(inputs * 0.15),
                wages_salaries=wages,
                employer_social_contrib=int(wages * 0.1),
                other_benefits=0,
                fixed_assets_nbv_open=fa,
                fixed_assets_nbv_close=fa,
                workers_avg_total=workers,
                workers_pkwtt=workers,
                workers_pkwt=0.0,
                hours_normal=workers * 173.0,
                hours_overtime=workers * 10.0,
                source_file=f"raw/submissions/{period}/sintetis_{i:03d}.csv",
                source_row=2,
            )
        )
    return frame(rows)


def write_submissions(root: Path, period: str, df: pd.DataFrame) -> Path:
    """Write ``df`` where the submissions stage puts accepted rows (processed/submissions/period=...)."""
    d = root / "processed" / "submissions" / f"period={period}"
    d.mkdir(parents=True, exist_ok=True)
    p = d / "part-0.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), p)
    return p
