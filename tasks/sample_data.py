"""Seeded generator of SYNTHETIC company submissions for Kalimantan Timur.

Nothing here is an official or real figure: company names carry "(SINTETIS)", NIBs start with
``99`` (a prefix chosen so they stand out), every file name ends in ``_SINTETIS`` and bulk CSVs
carry a ``synthetic`` column the readers ignore. The sector profiles below are plausible orders of
magnitude picked for testing, not statistics.

Companies are a function of ``seed`` alone (same NIB, name, sector, kab/kota, size in every period);
the monthly figures are a function of ``seed`` and the period, so consecutive periods of one seed give
comparable series for period-on-period checks and indices. Everything is vectorised with numpy, so
10^5 companies take about a second (writing single-company XLSX files aside).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from schemas.submission import SUBMISSION_FIELDS, money_fields
from tasks.storage import Storage

SYNTHETIC_MARK = "SINTETIS"
SYNTHETIC_NIB_PREFIX = "99"

# Kab/kota in the order a small sample takes them (the first n are used when n_kabkota < 10).
KABKOTA_ORDER = ("6471", "6472", "6403", "6404", "6474", "6401", "6405", "6409", "6402", "6411")

# One definition of the fields: the submission spec (the generator writes exactly its columns).
MONEY_FIELDS = tuple(money_fields())
WORKER_FIELDS = tuple(f.name for f in SUBMISSION_FIELDS if f.name.startswith("workers_"))
OUTPUT_COLUMNS = tuple(f.name for f in SUBMISSION_FIELDS)


@dataclass(frozen=True)
class Profile:
    """A synthetic sector profile: monthly rupiah per worker and shares, all made up but plausible."""

    key: str
    weight: float
    kbli: tuple[str, ...]
    kabkota: dict[str, float]
    workers_median: float
    sales_pw: float  # net sales per worker per month, Rp
    va_ratio: float  # value added / sales
    wage_pw: float  # wages per employee per month, Rp
    fa_pw: float  # fixed assets (net book value) per worker, Rp
    female_share: float
    hours_normal_pw: float
    hours_overtime_pw: float
    resale_share: float = 0.0  # part of intermediate consumption that is goods for resale
    name_words: tuple[str, ...] = ()


PROFILES: tuple[Profile, ...] = (
    Profile("coal", 0.10, ("05100",), {"6403": 0.45, "6404": 0.35, "6402": 0.1, "6401": 0.1},
            220, 380e6, 0.55, 14e6, 900e6, 0.08, 215, 25, name_words=("Bara", "Tambang", "Energi")),
    Profile("palm_plantation", 0.12, ("01262",), {"6404": 0.35, "6401": 0.3, "6405": 0.25, "6402": 0.1},
            260, 14e6, 0.5, 4.2e6, 60e6, 0.35, 168, 8, name_words=("Sawit", "Agro", "Perkebunan")),
    Profile("palm_mill", 0.06, ("10431",), {"6404": 0.4, "6401": 0.35, "6405": 0.25},
            90, 160e6, 0.18, 6e6, 400e6, 0.12, 168, 20, name_words=("Sawit", "Minyak", "Industri")),
    Profile("manufacturing", 0.10, ("20121", "10710", "25111", "33121"), {"6474": 0.4, "6471": 0.4, "6472": 0.2},
            120, 95e6, 0.3, 8.5e6, 350e6, 0.2, 167, 18, name_words=("Industri", "Manufaktur", "Teknik")),
    Profile("construction", 0.14, ("41011", "42101", "43211"), {"6471": 0.3, "6472": 0.25, "6409": 0.3, "6403": 0.15},
            80, 45e6, 0.35, 6.5e6, 80e6, 0.07, 169, 22, name_words=("Konstruksi", "Bangun", "Karya")),
    Profile("trade", 0.18, ("46100", "47111", "46691"), {"6471": 0.35, "6472": 0.4, "6474": 0.1, "6405": 0.15},
            45, 120e6, 0.12, 5.2e6, 45e6, 0.4, 166, 10, resale_share=0.85, name_words=("Niaga", "Dagang", "Mart")),
    Profile("hotel", 0.10, ("55110", "56101"), {"6471": 0.45, "6472": 0.4, "6405": 0.15},
            70, 22e6, 0.55, 5e6, 250e6, 0.45, 166, 12, name_words=("Hotel", "Wisata", "Boga")),
    Profile("transport", 0.10, ("49431", "52240", "50131"), {"6471": 0.4, "6474": 0.2, "6472": 0.2, "6403": 0.2},
            75, 55e6, 0.4, 7e6, 300e6, 0.1, 170, 24, name_words=("Logistik", "Angkutan", "Pelayaran")),
    Profile("forestry_mahulu", 0.03, ("02200",), {"6411": 0.6, "6402": 0.4},
            40, 20e6, 0.5, 4e6, 90e6, 0.1, 166, 10, name_words=("Rimba", "Kayu", "Hutan")),
    Profile("services", 0.07, ("62019", "81210", "86103"), {"6471": 0.4, "6472": 0.4, "6474": 0.2},
            35, 28e6, 0.6, 7e6, 40e6, 0.5, 164, 6, name_words=("Solusi", "Jasa", "Layanan")),
)  # fmt: skip

NAME_WORDS = (
    "Mahakam", "Borneo", "Etam", "Benua", "Sejahtera", "Tunggal", "Jaya", "Lestari", "Abadi", "Nusantara",
    "Samudra", "Makmur", "Prima", "Mandiri", "Sentosa", "Khatulistiwa", "Perkasa", "Bersama", "Raya", "Utama",
)  # fmt: skip

MISTAKES = (
    "misspelled_column",  # a header typo: the required field goes missing
    "text_in_number",  # "lima puluh" where a number belongs
    "categories_not_summing",
    "wrong_kabkota",  # a South Kalimantan code
    "resubmission",  # the same company sends a corrected file later
    "unreadable_file",  # a truncated workbook
)


def companies(n_companies: int, seed: int, n_kabkota: int = 10) -> pd.DataFrame:
    """The synthetic company register for ``seed``: nib, name, kbli, kab/kota, size and profile."""
    if n_companies < 0:
        raise ValueError("n_companies must be >= 0")
    n_kab = max(1, min(int(n_kabkota), len(KABKOTA_ORDER)))
    chosen = np.array(KABKOTA_ORDER[:n_kab])
    rng = np.random.default_rng([seed, 0])
    weights = np.array([p.weight for p in PROFILES])
    prof_idx = rng.choice(len(PROFILES), size=n_companies, p=weights / weights.sum())
    kab = np.empty(n_companies, dtype=object)
    kbli = np.empty(n_companies, dtype=object)
    size = np.empty(n_companies)
    words = np.empty(n_companies, dtype=object)
    for i, p in enumerate(PROFILES):
        sel = np.flatnonzero(prof_idx == i)
        if not len(sel):
            continue
        w = np.array([p.kabkota.get(k, 0.0) for k in chosen])
        w = w / w.sum() if w.sum() > 0 else np.full(len(chosen), 1 / len(chosen))
        kab[sel] = rng.choice(chosen, size=len(sel), p=w)
        kbli[sel] = rng.choice(np.array(p.kbli), size=len(sel))
        size[sel] = np.clip(np.round(p.workers_median * rng.lognormal(0, 0.5, len(sel))), 20, 5000)
        words[sel] = rng.choice(np.array(p.name_words), size=len(sel))
    # Small samples should still cover every chosen kab/kota: move a company from a crowded one,
    # preferring a company whose sector fits the missing place.
    if n_companies >= n_kab:
        for k in chosen:
            if (kab == k).any():
                continue
            counts = pd.Series(kab).value_counts()
            movable = np.array([counts[x] > 1 for x in kab])
            fits = np.array([PROFILES[i].kabkota.get(k, 0.0) > 0 for i in prof_idx]) & movable
            pick = np.flatnonzero(fits)[:1] if fits.any() else np.flatnonzero(movable)[:1]
            kab[pick] = k
    # Unique 11-digit tails drawn without replacement, so NIBs never collide at 10^5 scale.
    tails = rng.choice(10**11, size=n_companies, replace=False)
    nib = SYNTHETIC_NIB_PREFIX + pd.Series(tails).astype(str).str.zfill(11)
    a = rng.choice(np.array(NAME_WORDS), size=n_companies)
    b = rng.choice(np.array(NAME_WORDS), size=n_companies)
    name = "PT " + pd.Series(a) + " " + pd.Series(words) + " " + pd.Series(b) + f" ({SYNTHETIC_MARK})"
    return pd.DataFrame(
        {
            "nib": nib.astype(str),
            "company_name": name.astype(str),
            "kbli_code": pd.Series(kbli, dtype=str),
            "kabkota_code": pd.Series(kab, dtype=str),
            "contact_email": "pelaporan"
            + pd.Series(np.arange(1, n_companies + 1)).astype(str)
            + "@sintetis.example",
            "profile": pd.Series(np.array([p.key for p in PROFILES])[prof_idx], dtype=str),
            "profile_idx": prof_idx,
            "size": size,
        }
    )


def _round_money(x: np.ndarray) -> np.ndarray:
    # Companies report to the thousand rupiah; whole numbers keep the integer rupiah contract.
    return (np.round(x / 1000.0) * 1000).astype(np.int64)


def generate_frame(period: str, n_companies: int, seed: int, n_kabkota: int = 10) -> pd.DataFrame:
    """One clean submission row per company for ``period``: consistent, mostly positive VA."""
    year, month = (int(x) for x in period.split("-"))
    reg = companies(n_companies, seed, n_kabkota)
    n = len(reg)
    rng = np.random.default_rng([seed, year, month])
    idx = reg["profile_idx"].to_numpy()
    col = {f: np.array([getattr(p, f) for p in PROFILES], dtype=float)[idx]
           for f in ("sales_pw", "va_ratio", "wage_pw", "fa_pw", "female_share", "hours_normal_pw",
                     "hours_overtime_pw", "resale_share")}  # fmt: skip

    total = np.maximum(20, np.round(reg["size"].to_numpy() * rng.normal(1, 0.03, n)))
    pkwtt = np.round(total * rng.uniform(0.5, 0.8, n))
    pkwt = np.round(total * rng.uniform(0.05, 0.25, n))
    pkwt = np.minimum(pkwt, total - pkwtt)
    unpaid = np.where(rng.random(n) < 0.1, 1.0, 0.0)
    unpaid = np.minimum(unpaid, total - pkwtt - pkwt)
    outsourced = total - pkwtt - pkwt - unpaid
    female = np.round(total * np.clip(col["female_share"] * rng.normal(1, 0.15, n), 0, 1))

    sales = total * col["sales_pw"] * rng.lognormal(0, 0.25, n)
    va_ratio = col["va_ratio"] * rng.normal(1, 0.15, n)
    # A few companies have a bad month (VA below zero): that is a flag, not an error.
    va_ratio = np.where(rng.random(n) < 0.03, -rng.uniform(0.02, 0.15, n), va_ratio)
    other_income = sales * rng.uniform(0, 0.02, n)
    chg_inv = sales * rng.normal(0, 0.015, n)
    ic = np.maximum(sales + other_income + chg_inv - sales * va_ratio, 0)
    resale = ic * col["resale_share"]
    rest = ic - resale
    shares = rng.dirichlet([5, 2, 3], n)
    raw, energy, services = (rest * shares[:, i] for i in range(3))

    employees = pkwtt + pkwt
    wages = employees * col["wage_pw"] * rng.lognormal(0, 0.12, n)
    social = wages * rng.uniform(0.09, 0.115, n)
    benefits = wages * rng.uniform(0, 0.05, n)

    hours_normal = total * col["hours_normal_pw"] * np.clip(rng.normal(1, 0.015, n), 0.95, 1.04)
    hours_ot = total * col["hours_overtime_pw"] * rng.uniform(0.3, 1.2, n)

    nbv_open = total * col["fa_pw"] * rng.lognormal(0, 0.3, n)
    depreciation = nbv_open * rng.uniform(0.006, 0.012, n)
    capex = np.where(rng.random(n) < 0.25, nbv_open * rng.uniform(0.005, 0.05, n), 0.0)
    nbv_close = nbv_open - depreciation + capex

    last = calendar.monthrange(year, month)[1]
    period_end = pd.Timestamp(year=year, month=month, day=last)
    submitted = period_end + pd.to_timedelta(rng.integers(3, 25, n), unit="D")

    out = pd.DataFrame(
        {
            "nib": reg["nib"],
            "company_name": reg["company_name"],
            "kbli_code": reg["kbli_code"],
            "kabkota_code": reg["kabkota_code"],
            "contact_email": reg["contact_email"],
            "period": period,
            "submitted_on": submitted.date,
            "net_sales": _round_money(sales),
            "other_operating_income": _round_money(other_income),
            "chg_inventory_fg_wip": _round_money(chg_inv),
            "purch_raw_materials": _round_money(raw),
            "purch_energy": _round_money(energy),
            "purch_services": _round_money(services),
            "purch_goods_for_resale": _round_money(resale),
            "wages_salaries": _round_money(wages),
            "employer_social_contrib": _round_money(social),
            "other_benefits": _round_money(benefits),
            "workers_avg_total": total,
            "workers_pkwtt": pkwtt,
            "workers_pkwt": pkwt,
            "workers_outsourced": outsourced,
            "workers_unpaid": unpaid,
            "workers_female": female,
            "hours_normal": np.round(hours_normal, 1),
            "hours_overtime": np.round(hours_ot, 1),
            "fixed_assets_nbv_open": _round_money(nbv_open),
            "fixed_assets_nbv_close": _round_money(nbv_close),
            "depreciation": _round_money(depreciation),
            "capex": _round_money(capex),
        }
    )
    return out[list(OUTPUT_COLUMNS)]


def _id_number(x: object) -> str:
    """A number the way an Indonesian spreadsheet exports it: 1.234.567 and 50,5."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}".replace(",", ".")
    if isinstance(x, (float, np.floating)):
        if float(x).is_integer():
            return f"{int(x):,}".replace(",", ".")
        return f"{x:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return str(x)


def semicolon_csv_bytes(rows: pd.DataFrame, header_overrides: dict[str, str] | None = None) -> bytes:
    """Rows as an Indonesian-locale CSV: ``;`` separators, Indonesian labels, 1.234.567,5 numbers."""
    from schemas.submission import field

    labels = [(header_overrides or {}).get(c, field(c).label_id) for c in rows.columns]
    lines = [";".join(labels)]
    for rec in rows.itertuples(index=False):
        cells = []
        for v in rec:
            s = v.isoformat() if hasattr(v, "isoformat") else _id_number(v)
            cells.append(f'"{s}"' if ";" in s or '"' in s else s)
        lines.append(";".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def bulk_csv_bytes(rows: pd.DataFrame) -> bytes:
    """A multi-company export: comma separated, field names as headers, plus a ``synthetic`` column."""
    out = rows.copy()
    out["synthetic"] = "ya"
    for c in WORKER_FIELDS + ("hours_normal", "hours_overtime"):
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce").round(1) if out[c].dtype != object else out[c]
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _xlsx_rows(row: pd.Series) -> list[dict]:
    rec: dict = {}
    for k, v in row.items():
        if isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, np.floating):
            v = float(v)
        rec[k] = v
    return [rec]


def _slug(name: str) -> str:
    words = [w for w in name.replace("(", " ").replace(")", " ").split() if w not in ("PT", SYNTHETIC_MARK)]
    return "_".join(words[:3]).lower()


@dataclass
class GeneratedPeriod:
    """What the generator wrote (relative to the storage root) and which mistakes it planted."""

    period: str
    files: list[str]
    companies: int
    rows: int
    mistakes: dict[str, list[str]]  # mistake -> NIBs it touches


def plan_mistakes(
    n: int, rng: np.random.Generator, singles: np.ndarray, bulk: np.ndarray
) -> dict[str, list[int]]:
    """Company positions that get each mistake: one of each in a small sample, ~0.5% each at scale."""
    k = max(1, n // 200)
    plan: dict[str, list[int]] = {}
    csv_singles = [int(i) for j, i in enumerate(singles) if j % 3 == 2]
    xlsx_singles = [int(i) for j, i in enumerate(singles) if j % 3 != 2]
    if csv_singles:
        plan["misspelled_column"] = csv_singles[:1]
    if len(xlsx_singles) >= 3:
        plan["text_in_number"] = [xlsx_singles[0]]
        plan["resubmission"] = [xlsx_singles[1]]
        plan["unreadable_file"] = [xlsx_singles[2]]
    pool = [int(i) for i in (bulk if len(bulk) >= 2 else singles[3:])]
    used = {i for v in plan.values() for i in v}
    pool = [i for i in pool if i not in used]
    sel = rng.permutation(pool)[: 2 * k] if pool else []
    plan["categories_not_summing"] = [int(i) for i in sel[:k]]
    plan["wrong_kabkota"] = [int(i) for i in sel[k : 2 * k]]
    return plan


def generate_period(
    period: str,
    n_companies: int = 23,
    seed: int = 2025,
    n_kabkota: int = 9,
    mistakes: bool = True,
    bulk_csv_share: float = 0.45,
    out: Storage | Path | str = Path("data/raw/submissions"),
    overwrite: bool = False,
    bulk_rows_per_file: int = 2000,
) -> GeneratedPeriod:
    """Write synthetic submissions for ``period``.

    ``out`` is either a :class:`Storage` (files go to ``raw/submissions/<period>/``) or a folder
    that holds period folders (files go to ``<out>/<period>/``). ``bulk_csv_share`` of the companies
    go into multi-company CSV exports, the rest into single-company files (two XLSX from the
    template for every semicolon CSV). With ``mistakes`` a few realistic errors are planted (see
    :data:`MISTAKES`); their NIBs are returned so tests can follow them.
    """
    from tasks.template_workbook import workbook_bytes

    if isinstance(out, Storage):
        storage, base = out, f"raw/submissions/{period}"
    else:
        storage, base = Storage(Path(out)), period
    existing = storage.walk_files(base)
    if existing and not overwrite:
        raise FileExistsError(
            f"{storage.url(base)} already holds {len(existing)} file(s); pass overwrite=True (--force) "
            "to write the synthetic sample over them."
        )

    frame = generate_frame(period, n_companies, seed, n_kabkota)
    n = len(frame)
    rng = np.random.default_rng([seed, 7])
    order = rng.permutation(n)
    n_bulk = int(round(n * min(max(bulk_csv_share, 0.0), 1.0)))
    bulk, singles = np.sort(order[:n_bulk]), order[n_bulk:]
    plan = plan_mistakes(n, rng, singles, bulk) if mistakes else {}
    mistake_nibs = {m: frame.loc[idx, "nib"].tolist() for m, idx in plan.items()}

    frame = frame.astype({c: object for c in ("workers_avg_total", "workers_pkwt", "kabkota_code")})
    for i in plan.get("categories_not_summing", []):
        frame.loc[i, "workers_pkwt"] = float(frame.loc[i, "workers_pkwt"]) + 2.0
    for i in plan.get("wrong_kabkota", []):
        frame.loc[i, "kabkota_code"] = "6371"  # a South Kalimantan code, not Kaltim

    written: list[str] = []

    def put(name: str, data: bytes) -> None:
        rel = f"{base}/{name}"
        storage.write_bytes(rel, data)
        written.append(rel)

    for start in range(0, len(bulk), bulk_rows_per_file):
        part = frame.loc[bulk[start : start + bulk_rows_per_file]]
        put(f"{period}_ekspor_gabungan_{start // bulk_rows_per_file + 1:02d}_{SYNTHETIC_MARK}.csv",
            bulk_csv_bytes(part))  # fmt: skip

    for j, i in enumerate(singles):
        row = frame.loc[i].copy()
        stem = f"{period}_{row['nib']}_{_slug(row['company_name'])}_{SYNTHETIC_MARK}"
        if j % 3 == 2:
            overrides = (
                {"wages_salaries": "Upah dan Gajih"} if i in plan.get("misspelled_column", []) else None
            )
            put(f"{stem}.csv", semicolon_csv_bytes(frame.loc[[i]], overrides))
            continue
        if i in plan.get("text_in_number", []):
            row["workers_avg_total"] = "lima puluh"
        data = workbook_bytes(_xlsx_rows(row))
        if i in plan.get("unreadable_file", []):
            data = data[: len(data) // 3]  # cut off mid-transfer: not a valid zip any more
        if i in plan.get("resubmission", []):
            first = row.copy()
            first["net_sales"] = int(first["net_sales"]) * 10  # the typo the company then corrected
            first["submitted_on"] = row["submitted_on"] - pd.Timedelta(days=2)
            put(f"{stem}.xlsx", workbook_bytes(_xlsx_rows(first)))
            put(f"{stem}_revisi.xlsx", data)
            continue
        put(f"{stem}.xlsx", data)
    return GeneratedPeriod(period, written, n, n + len(plan.get("resubmission", [])), mistake_nibs)
