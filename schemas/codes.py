"""Official code lists (BPS province and Kaltim kab/kota codes, KBLI 2020 sections).

Codes are strings everywhere ("64", "6471", "C"). The CSV files beside this module are copied
verbatim from the project's reference folder; their sources are in ``schemas/codes/README.md``.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

CODES_DIR = Path(__file__).with_name("codes")

NATIONAL_CODE = "00"
KALTIM_PROVINCE_CODE = "64"


def _read(name: str) -> list[dict[str, str]]:
    with (CODES_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def provinces() -> dict[str, str]:
    """BPS 2-digit province code -> Indonesian name (38 provinces, boundary of 2022 onwards)."""
    return {r["code"]: r["name_id"] for r in _read("provinces.csv")}


@cache
def provinces_en() -> dict[str, str]:
    return {r["code"]: r["name_en"] for r in _read("provinces.csv")}


@cache
def kaltim_kabkota() -> dict[str, str]:
    """BPS 4-digit code -> name of Kalimantan Timur's 10 regencies/cities (e.g. "6471" Balikpapan)."""
    return {r["kabkota_code"]: r["name"] for r in _read("kaltim_kabkota.csv")}


@cache
def kaltim_kabkota_kind() -> dict[str, str]:
    return {r["kabkota_code"]: r["kind"] for r in _read("kaltim_kabkota.csv")}


def kabkota_display_name(code: str) -> str:
    """ "Kabupaten Paser" / "Kota Balikpapan", as BPS prints them."""
    return f"{kaltim_kabkota_kind()[code]} {kaltim_kabkota()[code]}"


@cache
def kbli_sections() -> dict[str, dict[str, str]]:
    """KBLI 2020 section letter -> {name_id, name_en, pdrb_category}."""
    return {
        r["code"]: {k: r[k] for k in ("name_id", "name_en", "pdrb_category")}
        for r in _read("kbli_sections.csv")
    }


# KBLI 2020 2-digit division ranges per section (ISIC Rev.4; METHOD.md §6).
KBLI_DIVISIONS: dict[str, tuple[int, int]] = {
    "A": (1, 3), "B": (5, 9), "C": (10, 33), "D": (35, 35), "E": (36, 39), "F": (41, 43),
    "G": (45, 47), "H": (49, 53), "I": (55, 56), "J": (58, 63), "K": (64, 66), "L": (68, 68),
    "M": (69, 75), "N": (77, 82), "O": (84, 84), "P": (85, 85), "Q": (86, 88), "R": (90, 93),
    "S": (94, 96), "T": (97, 98), "U": (99, 99),
}  # fmt: skip


@cache
def division_to_section() -> dict[str, str]:
    """Two-digit KBLI division ("10") -> section letter ("C"). Divisions not listed are invalid."""
    out: dict[str, str] = {}
    for sec, (lo, hi) in KBLI_DIVISIONS.items():
        for d in range(lo, hi + 1):
            out[f"{d:02d}"] = sec
    return out


def pdrb_group_code(section: str) -> str:
    """The 17 PDRB industry groups: sections as-is except M,N -> "M-N" and R..U -> "R-U"."""
    if section in ("M", "N"):
        return "M-N"
    if section in ("R", "S", "T", "U"):
        return "R-U"
    return section


@cache
def pdrb_groups() -> dict[str, str]:
    """PDRB group code ("A", "M-N", "R-U", ...) -> Indonesian PDRB category name."""
    out: dict[str, str] = {}
    for sec, row in kbli_sections().items():
        out.setdefault(pdrb_group_code(sec), row["pdrb_category"].split(": ", 1)[1])
    return out
