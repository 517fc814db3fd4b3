"""Benchmark fallbacks (provincial sector > national sector > provincial total) and no ratio without a deflator."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from tasks.benchmarks import (
    LEVEL_NATIONAL_SECTOR,
    LEVEL_PROVINCIAL_SECTOR,
    LEVEL_PROVINCIAL_TOTAL,
    attach_benchmarks,
    national_sector_benchmark,
    provincial_sector_benchmark,
    provincial_total_benchmark,
)
from tasks.company_indicators import compute_company_indicators
from tests.company_fixtures import base_row, frame

PROJECT = Path(__file__).resolve().parents[1]
KEMNAKER = PROJECT / "data" / "raw" / "reference" / "kemnaker_productivity_by_sector_national_2022.csv"

# 12 x 60 juta / 10 workers = 72 juta per worker per year (nominal); at deflator 120: 60 juta (2010 prices)
DEFL = pd.DataFrame(
    {"pdrb_group": ["*"], "period": ["2025"], "deflator_2010_100": [120.0], "source": ["synthetic test"]}
)


def _companies(deflators: pd.DataFrame | None = None) -> pd.DataFrame:
    rows = [
        base_row(),  # C
        base_row(nib="2000000000001", kbli_section="N", kbli_code="78100", pdrb_group="M-N"),
        base_row(nib="2000000000002", kbli_section="S", kbli_code="96011", pdrb_group="R-U"),
    ]
    return compute_company_indicators(frame(rows), deflators=deflators)


def test_bundled_reference_matches_the_shared_copy_and_maps_merged_codes() -> None:
    shared = PROJECT.parent / "shared" / "reference" / KEMNAKER.name
    if shared.exists():
        assert KEMNAKER.read_bytes() == shared.read_bytes()
    nat = national_sector_benchmark(KEMNAKER.read_text(encoding="utf-8"))
    assert len(nat) == 17 and set(nat["pdrb_group"]) >= {"M-N", "R-U", "C"}
    assert nat.set_index("pdrb_group").loc["M-N", "productivity_million_idr_per_worker"] == 95.8
    assert nat.set_index("pdrb_group").loc["R-U", "productivity_million_idr_per_worker"] == 36.4


def test_national_sector_is_used_without_provincial_tables_and_ratio_needs_a_deflator() -> None:
    nat = national_sector_benchmark(KEMNAKER.read_text(encoding="utf-8"))
    out = attach_benchmarks(_companies(), national_sector=nat)
    c = out.iloc[0]
    assert c["benchmark_level"] == LEVEL_NATIONAL_SECTOR
    assert c["benchmark_productivity_million_idr_per_worker"] == 125.0  # Kemnaker C, 2022
    assert c["benchmark_year"] == 2022
    assert c["benchmark_price_basis"] == "constant 2010 prices"
    assert c["price_basis"] == "nominal"
    assert c["va_per_worker_annualised_idr"] == 72_000_000.0  # still shown, with its price basis
    assert math.isnan(c["benchmark_ratio"])
    assert math.isnan(c["va_per_worker_annualised_real_million_idr"])
    assert "deflator" in c["benchmark_note"] and "Indicative" in c["benchmark_note"]
    assert "deflator" in c["benchmark_note_id"] and "Indikatif" in c["benchmark_note_id"]
    assert out.iloc[1]["benchmark_productivity_million_idr_per_worker"] == 95.8  # "M,N" -> M-N
    assert out.iloc[2]["benchmark_productivity_million_idr_per_worker"] == 36.4  # "R,S,T,U" -> R-U


def test_ratio_with_a_deflator() -> None:
    nat = national_sector_benchmark(KEMNAKER.read_text(encoding="utf-8"))
    c = attach_benchmarks(_companies(DEFL), national_sector=nat).iloc[0]
    assert c["va_per_worker_annualised_real_million_idr"] == pytest.approx(60.0)  # 72 / 1.2
    assert c["benchmark_ratio"] == pytest.approx(0.48)  # 60 / 125
    assert c["benchmark_note"].startswith("Indicative")


def test_provincial_sector_first_when_configured() -> None:
    pdrb = pd.DataFrame(
        {"year": [2023, 2024, 2024], "sector_code": ["C", "C", "M,N"], "pdrb_adhk_billion_idr": [1000.0, 1200.0, 50.0],
         "source": ["fixture", "fixture", "fixture"]}
    )  # fmt: skip
    emp = pd.DataFrame(
        {"year": [2023, 2024, 2024, 2024], "sector_code": ["C", "C", "M,N", "TOTAL"],
         "employed_persons": [10_000, 12_000, 1_000, 99_999], "source": ["sak"] * 4}
    )  # fmt: skip
    prov = provincial_sector_benchmark(pdrb, emp)
    # 1200 miliar * 1000 / 12 000 = 100 juta per worker; M-N: 50 000 / 1 000 = 50
    assert (
        prov.set_index(["pdrb_group", "year"]).loc[("C", 2024), "productivity_million_idr_per_worker"]
        == 100.0
    )
    nat = national_sector_benchmark(KEMNAKER.read_text(encoding="utf-8"))
    out = attach_benchmarks(_companies(DEFL), provincial_sector=prov, national_sector=nat)
    c, mn, ru = out.iloc[0], out.iloc[1], out.iloc[2]
    assert c["benchmark_level"] == LEVEL_PROVINCIAL_SECTOR and c["benchmark_year"] == 2024  # latest <= 2025
    assert c["benchmark_ratio"] == pytest.approx(0.6)  # 60 / 100
    assert (
        mn["benchmark_level"] == LEVEL_PROVINCIAL_SECTOR
        and mn["benchmark_productivity_million_idr_per_worker"] == 50.0
    )
    assert ru["benchmark_level"] == LEVEL_NATIONAL_SECTOR  # R-U not in the provincial fixture
    assert "Kalimantan Timur" in c["benchmark_source"] and "Kemnaker" in ru["benchmark_source"]


def test_provincial_total_is_the_last_resort() -> None:
    provincial = pd.DataFrame(
        {"year": [2023, 2024, 2024], "region_code": ["64", "64", "00"],
         "productivity_million_idr_per_worker": [290.0, 300.0, 90.0], "grdp_source": ["bps", "bps", "bps"]}
    )  # fmt: skip
    total = provincial_total_benchmark(provincial)
    nat = national_sector_benchmark(KEMNAKER.read_text(encoding="utf-8"))
    nat_without_c = nat[nat["pdrb_group"] != "C"]
    out = attach_benchmarks(_companies(DEFL), national_sector=nat_without_c, provincial_total=total)
    c = out.iloc[0]
    assert c["benchmark_level"] == LEVEL_PROVINCIAL_TOTAL
    assert c["benchmark_productivity_million_idr_per_worker"] == 300.0 and c["benchmark_year"] == 2024
    assert c["benchmark_ratio"] == pytest.approx(0.2)  # 60 / 300
    assert out.iloc[1]["benchmark_level"] == LEVEL_NATIONAL_SECTOR


def test_no_benchmark_at_all() -> None:
    c = attach_benchmarks(_companies(DEFL)).iloc[0]
    assert pd.isna(c["benchmark_level"]) and math.isnan(c["benchmark_ratio"])
    assert c["benchmark_note"].startswith("No ratio: no benchmark")
