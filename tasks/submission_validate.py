"""Validation of company submission rows with Great Expectations, from the field spec.

One list of :class:`Check` objects is built from :data:`schemas.submission.SUBMISSION_FIELDS` (and
a few cross-field rules over derived columns). The same list gives both the GX expectation suite
(run with the SUMMARY result format, for Data Docs and a sample of failing rows) and the pandas
masks that find *every* failing row — so the two can never drift apart, and the stage cross-checks
their counts on every run.

Hard checks reject a row; soft checks flag it and keep it (METHOD.md §3.3). Every failure carries a
reason code, the column to fix and a sentence in Indonesian (and English) naming what to do.
Great Expectations is imported only inside :func:`run_gx` (its import costs ~5 s).
"""

from __future__ import annotations

import calendar
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schemas.codes import division_to_section, kabkota_display_name, kaltim_kabkota
from schemas.submission import SUBMISSION_FIELDS, kbli_section_of

HARD = "hard"
SOFT = "soft"
ROW_ID = "_row_id"
MAX_HOURS_PER_WORKER = 744.0  # 24 h x 31 days: physically impossible above this
WORKERS_SUM_TOLERANCE = 0.5
VA_JUMP_LIMIT = 0.5
WORKER_CATEGORIES = ("workers_pkwtt", "workers_pkwt", "workers_outsourced", "workers_unpaid")
PURCHASES = ("purch_raw_materials", "purch_energy", "purch_services", "purch_goods_for_resale")
OUTPUTS = ("net_sales", "other_operating_income", "chg_inventory_fg_wip")

# Weekly hours (normal, normal + capped overtime) per KBLI section; "*" for all others.
# 40 h/week normal and 18 h/week overtime (PP 35/2021 art. 21, 26). Mining (B) may run the longer
# energy/mineral regime (Kepmen 234/2003); 56/72 is a configurable proposal, not a legal figure.
DEFAULT_HOURS_BOUNDS_PER_WEEK: dict[str, tuple[float, float]] = {"*": (40.0, 58.0), "B": (56.0, 72.0)}

# Soft flag column for each soft reason code.
FLAG_OF_REASON: dict[str, str] = {
    "negative_value_added": "flag_negative_va",
    "hours_normal_high": "flag_hours_high",
    "hours_total_high": "flag_hours_high",
    "wage_below_umk": "flag_below_umk",
    "va_per_worker_jump": "flag_va_jump",
    "female_above_total": "flag_female_above_total",
    "invalid_email": "flag_invalid_email",
}
FLAG_COLUMNS = tuple(dict.fromkeys(FLAG_OF_REASON.values()))


@dataclass(frozen=True)
class Check:
    """One rule: what to test (``kind`` on ``target``), how bad (``severity``), what to tell a person."""

    rule_id: str
    reason_code: str
    column: str  # the submission field a person corrects
    target: str  # the frame column tested: the field itself or a derived "_..." column
    kind: str  # not_null | regex | in_set | between
    severity: str
    message_id: str  # str.format template over the row's values and derived columns
    message_en: str
    regex: str | None = None
    value_set: tuple[Any, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    strict_min: bool = False

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        """Rows failing this check; the same semantics as the GX expectation (nulls pass except not_null)."""
        s = frame[self.target]
        if self.kind == "not_null":
            return s.isna()
        present = s.notna()
        if self.kind == "regex":
            # GX's pandas regex expectation is re.search on the text; the spec regexes are anchored.
            ok = s.astype("str").str.contains(self.regex or "", regex=True).fillna(False).astype(bool)
            return present & ~ok
        if self.kind == "in_set":
            return present & ~s.isin(list(self.value_set or ()))
        if self.kind == "between":
            x = pd.to_numeric(s, errors="coerce").astype("float64")
            bad = pd.Series(False, index=s.index)
            if self.min_value is not None:
                bad |= (x <= self.min_value) if self.strict_min else (x < self.min_value)
            if self.max_value is not None:
                bad |= x > self.max_value
            return present & bad.fillna(False)
        raise ValueError(f"unknown check kind {self.kind!r}")

    def expectation(self) -> Any:
        import great_expectations.expectations as gxe

        meta = {"rule_id": self.rule_id, "reason_code": self.reason_code, "severity": self.severity,
                "column": self.column}  # fmt: skip
        if self.kind == "not_null":
            return gxe.ExpectColumnValuesToNotBeNull(column=self.target, meta=meta)
        if self.kind == "regex":
            return gxe.ExpectColumnValuesToMatchRegex(column=self.target, regex=self.regex, meta=meta)
        if self.kind == "in_set":
            return gxe.ExpectColumnValuesToBeInSet(
                column=self.target, value_set=list(self.value_set or ()), meta=meta
            )
        if self.kind == "between":
            return gxe.ExpectColumnValuesToBeBetween(
                column=self.target, min_value=self.min_value, max_value=self.max_value,
                strict_min=self.strict_min, meta=meta,
            )  # fmt: skip
        raise ValueError(f"unknown check kind {self.kind!r}")


@dataclass
class ValidationResult:
    """Rows (with ``_row_id``, derived and flag columns), every failure, and the GX run's summary."""

    rows: pd.DataFrame
    failures: pd.DataFrame  # _row_id, rule_id, reason_code, severity, column, value, reason_id, reason_en
    gx_results: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    docs_files: dict[str, bytes] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    mask_counts: dict[str, int] = field(default_factory=dict)  # failing rows per rule_id (pandas masks)

    @property
    def rejected_ids(self) -> set[int]:
        hard = self.failures[self.failures["severity"] == HARD]
        return set(hard[ROW_ID].astype(int))


FAILURE_COLUMNS = [ROW_ID, "rule_id", "reason_code", "severity", "column", "value", "reason_id", "reason_en"]


# --- checks from the field spec ----------------------------------------------------------------
def hours_bounds_per_month(
    period: str, per_week: Mapping[str, tuple[float, float]] | None = None
) -> dict[str, tuple[float, float]]:
    """Weekly bounds scaled to the month's length (days / 7 weeks), rounded to 0.1 h."""
    year, month = (int(x) for x in period.split("-"))
    weeks = calendar.monthrange(year, month)[1] / 7.0
    merged = dict(DEFAULT_HOURS_BOUNDS_PER_WEEK)
    merged.update({k: (float(v[0]), float(v[1])) for k, v in (per_week or {}).items()})
    return {k: (round(a * weeks, 1), round(b * weeks, 1)) for k, (a, b) in merged.items()}


def build_checks(period: str, *, umk: bool = False, previous: bool = False) -> list[Check]:
    """Every check for a run of ``period``, in the order reasons are reported."""
    checks: list[Check] = []
    for f in SUBMISSION_FIELDS:
        lab = f.label_id
        if f.required:
            checks.append(Check(
                f"{f.rule_id}.required", "missing_required", f.name, f.name, "not_null", HARD,
                f"Kolom '{lab}' wajib diisi tetapi kosong. Isi nilainya lalu kirim ulang.",
                f"Required column '{f.label_en}' is empty. Fill it in and resubmit.",
            ))  # fmt: skip
        if f.allowed:
            checks.append(Check(
                f"{f.rule_id}.allowed", "invalid_kabkota" if f.name == "kabkota_code" else "not_allowed",
                f.name, f.name, "in_set", HARD,
                f"Kode '{{value}}' pada kolom '{lab}' bukan kode BPS kabupaten/kota di Kalimantan Timur. "
                "Pilih kode dari daftar (mis. 6471 = Kota Balikpapan) lalu kirim ulang.",
                f"'{{value}}' in column '{f.label_en}' is not a BPS code of a Kalimantan Timur regency/city. "
                "Pick a code from the list and resubmit.",
                value_set=tuple(f.allowed),
            ))  # fmt: skip
        elif f.regex:
            soft = f.name == "contact_email"
            checks.append(Check(
                f"{f.rule_id}.format", "invalid_email" if soft else f"invalid_{f.name}", f.name, f.name,
                "regex", SOFT if soft else HARD, _FORMAT_ID.get(f.name, f"Isi kolom '{lab}' ('{{value}}') "
                "tidak sesuai format. Perbaiki lalu kirim ulang."),
                _FORMAT_EN.get(f.name, f"'{{value}}' in column '{f.label_en}' has the wrong format."),
                regex=noncapturing(f.regex),
            ))  # fmt: skip
        if f.min_value is not None or f.max_value is not None:
            strict = f.extra.get("min_exclusive") == "true"
            checks.append(Check(
                f"{f.rule_id}.range", "not_positive" if strict else "negative_value", f.name, f.name,
                "between", HARD,
                f"Kolom '{lab}' harus lebih dari {f.min_value:g} (tertulis {{value}}). Perbaiki lalu kirim ulang."
                if strict else
                f"Kolom '{lab}' bernilai {{value}}, padahal tidak boleh negatif. Perbaiki angkanya lalu kirim ulang.",
                f"Column '{f.label_en}' must be above {f.min_value:g} (got {{value}})."
                if strict else f"Column '{f.label_en}' is {{value}} but may not be negative.",
                min_value=f.min_value, max_value=f.max_value, strict_min=strict,
            ))  # fmt: skip
        if f.extra.get("required_if_section"):
            sec = f.extra["required_if_section"]
            checks.append(Check(
                f"{f.rule_id}.required_if_{sec}", "missing_required", f.name, f"_{f.name}_if_{sec}", "not_null",
                HARD,
                f"Kolom '{lab}' wajib diisi untuk KBLI seksi {sec} (kode KBLI {{kbli_code}}). Isi nilainya "
                "(0 bila tidak ada) lalu kirim ulang.",
                f"Column '{f.label_en}' is required for KBLI section {sec}. Fill it in (0 if none) and resubmit.",
            ))  # fmt: skip
    checks += [
        Check("SUB_KBLI_CODE.division", "invalid_kbli", "kbli_code", "_kbli_division", "in_set", HARD,
              "Kode KBLI '{kbli_code}': dua angka pertama ({_kbli_division}) bukan golongan pokok KBLI 2020. "
              "Periksa kode KBLI kegiatan utama lalu kirim ulang.",
              "KBLI code '{kbli_code}': division {_kbli_division} does not exist in KBLI 2020. Check the code.",
              value_set=tuple(sorted(division_to_section()))),
        Check("SUB_PERIOD.run", "wrong_period", "period", "period", "in_set", HARD,
              f"Periode '{{value}}' bukan bulan yang sedang diproses ({period}). Kirim baris ini dalam "
              "berkas untuk bulan yang benar, atau perbaiki periodenya.",
              f"Period '{{value}}' is not the month being processed ({period}). Send it for the right month.",
              value_set=(period,)),
        Check("SUB_WORKERS_SUM", "workers_sum_mismatch", "workers_avg_total", "_workers_sum_gap", "between",
              HARD,
              "Jumlah pekerja per kategori (PKWTT+PKWT+alih daya+tidak dibayar = {_workers_sum}) tidak sama "
              "dengan total ({workers_avg_total}). Perbaiki salah satu angka lalu kirim ulang.",
              "Worker categories (PKWTT+PKWT+outsourced+unpaid = {_workers_sum}) do not add up to the total "
              "({workers_avg_total}). Correct one of the numbers and resubmit.",
              max_value=WORKERS_SUM_TOLERANCE),
        Check("SUB_HOURS_MAX", "hours_impossible", "hours_normal", "_hours_per_worker", "between", HARD,
              "Jam kerja per pekerja {_hours_per_worker} jam sebulan ((normal + lembur) ÷ jumlah tenaga kerja) "
              "melebihi 744 jam (24 jam × 31 hari), tidak mungkin. Isi jam kerja sebagai total semua pekerja "
              "dalam sebulan dan periksa jumlah tenaga kerja, lalu kirim ulang.",
              "Hours per worker {_hours_per_worker} per month exceed 744 (24 h x 31 days), which is impossible. "
              "Check the hours (all workers together) and the number of workers.",
              max_value=MAX_HOURS_PER_WORKER),
        Check("SUB_VA_NEGATIVE", "negative_value_added", "net_sales", "_value_added", "between", SOFT,
              "Nilai tambah negatif (Rp{_value_added}): penjualan + pendapatan lain + perubahan persediaan "
              "lebih kecil dari pembelian. Data diterima; mohon periksa kembali angka penjualan dan pembelian.",
              "Negative value added (Rp{_value_added}): outputs are below purchases. Kept; please check.",
              min_value=0.0),
        Check("SUB_HOURS_NORMAL_BOUND", "hours_normal_high", "hours_normal", "_hours_normal_excess", "between",
              SOFT,
              "Jam kerja normal per pekerja {_hours_normal_pw} jam sebulan melebihi batas wajar {_bound_normal} jam "
              "(seksi {_kbli_section}). Data diterima; pastikan jam ditulis sebagai total semua pekerja dan "
              "lembur dicatat terpisah.",
              "Normal hours per worker {_hours_normal_pw} exceed the normal bound {_bound_normal} "
              "(section {_kbli_section}). Kept; please check.",
              max_value=0.0),
        Check("SUB_HOURS_TOTAL_BOUND", "hours_total_high", "hours_overtime", "_hours_total_excess", "between",
              SOFT,
              "Jam kerja normal + lembur per pekerja {_hours_per_worker} jam sebulan melebihi batas "
              "{_bound_total} jam (jam normal + lembur maksimum, seksi {_kbli_section}). Data diterima; mohon "
              "periksa jam lembur.",
              "Normal plus overtime hours per worker {_hours_per_worker} exceed {_bound_total} "
              "(section {_kbli_section}). Kept; please check overtime.",
              max_value=0.0),
        Check("SUB_WORKERS_FEMALE", "female_above_total", "workers_female", "_female_excess", "between", SOFT,
              "Pekerja perempuan ({workers_female}) lebih banyak dari jumlah tenaga kerja ({workers_avg_total}). "
              "Data diterima; mohon perbaiki pada kiriman berikutnya.",
              "Female workers ({workers_female}) exceed total workers ({workers_avg_total}).",
              max_value=0.0),
    ]  # fmt: skip
    if umk:
        checks.append(Check(
            "SUB_WAGE_UMK", "wage_below_umk", "wages_salaries", "_wage_gap", "between", SOFT,
            "Upah rata-rata per pekerja PKWTT+PKWT Rp{_wage_per_employee} sebulan di bawah UMK {_kabkota_name} "
            "(Rp{_umk}). Ini tanda untuk diperiksa, bukan temuan hukum; pastikan upah dan jumlah pekerja benar.",
            "Average wage per PKWTT+PKWT employee Rp{_wage_per_employee} is below the UMK (Rp{_umk}). "
            "A plausibility flag, not a legal finding.",
            min_value=0.0,
        ))  # fmt: skip
    if previous:
        checks.append(Check(
            "SUB_VA_PER_WORKER_JUMP", "va_per_worker_jump", "net_sales", "_va_pw_change", "between", SOFT,
            "Nilai tambah per pekerja berubah {_va_pw_change_pct}% dibanding periode {_prev_period} "
            "(Rp{_prev_va_pw} → Rp{_va_pw}). Data diterima; mohon pastikan angkanya benar.",
            "Value added per worker changed {_va_pw_change_pct}% against {_prev_period} "
            "(Rp{_prev_va_pw} -> Rp{_va_pw}). Kept; please confirm.",
            min_value=-VA_JUMP_LIMIT, max_value=VA_JUMP_LIMIT,
        ))  # fmt: skip
    return checks


def noncapturing(regex: str) -> str:
    """The same pattern with plain groups made non-capturing (pandas warns on capture groups)."""
    return re.sub(r"(?<!\\)\((?!\?)", "(?:", regex)


_FORMAT_ID = {
    "nib": "NIB '{value}' tidak sah: NIB terdiri dari 13 angka. Periksa NIB di OSS lalu kirim ulang.",
    "kbli_code": "Kode KBLI '{value}' tidak sah: harus 5 angka (KBLI 2020). Perbaiki lalu kirim ulang.",
    "period": "Periode '{value}' tidak sah: tulis sebagai TTTT-BB (mis. 2025-08) lalu kirim ulang.",
    "contact_email": "Alamat email '{value}' tidak sah; tanda terima tidak dapat dikirim lewat email. "
    "Data diterima; perbaiki alamatnya pada kiriman berikutnya.",
}
_FORMAT_EN = {
    "nib": "NIB '{value}' is invalid: it must be 13 digits. Check it in OSS and resubmit.",
    "kbli_code": "KBLI code '{value}' is invalid: it must be 5 digits (KBLI 2020).",
    "period": "Period '{value}' is invalid: write it as YYYY-MM.",
    "contact_email": "E-mail address '{value}' is invalid; the receipt cannot be e-mailed. Kept.",
}


# --- derived columns -----------------------------------------------------------------------------
_CODE_WITH_NAME = re.compile(r"^\s*(\d{4})\s*[—–-]\s*\S")


def normalise_codes(rows: pd.DataFrame) -> pd.DataFrame:
    """A copy with template dropdown entries ("6471 — Balikpapan") reduced to their code ("6471")."""
    df = rows.copy()
    if "kabkota_code" in df.columns and len(df):
        s = df["kabkota_code"].astype("str")
        code = s.str.extract(_CODE_WITH_NAME, expand=False)
        df["kabkota_code"] = code.where(code.notna(), s).where(df["kabkota_code"].notna())
    return df


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[col], errors="coerce").astype("float64")


def derive(
    rows: pd.DataFrame,
    period: str,
    *,
    hours_bounds_week: Mapping[str, tuple[float, float]] | None = None,
    umk_table: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``rows`` plus ``_row_id`` and every derived ``_...`` column the checks test (vectorised)."""
    df = normalise_codes(rows.reset_index(drop=True))
    df[ROW_ID] = np.arange(len(df), dtype="int64")
    kbli = df["kbli_code"].astype("str")
    well_formed = kbli.str.fullmatch(r"\d{5}").fillna(False).astype(bool) & df["kbli_code"].notna()
    df["_kbli_division"] = kbli.str.slice(0, 2).where(well_formed)
    df["_kbli_section"] = kbli_section_of(df["kbli_code"])
    resale = _num(df, "purch_goods_for_resale")
    df["_purch_goods_for_resale_if_G"] = resale.where(df["_kbli_section"] == "G", 0.0)

    total = _num(df, "workers_avg_total")
    cats = pd.concat([_num(df, c) for c in WORKER_CATEGORIES], axis=1)
    df["_workers_sum"] = cats.sum(axis=1, min_count=1)
    df["_workers_sum_gap"] = (df["_workers_sum"] - total).abs()
    per_worker = total.where(total > 0)
    normal = _num(df, "hours_normal")
    overtime = _num(df, "hours_overtime")
    df["_hours_per_worker"] = ((normal + overtime.fillna(0)) / per_worker).round(1)
    df["_hours_normal_pw"] = (normal / per_worker).round(1)
    bounds = hours_bounds_per_month(period, hours_bounds_week)
    default = bounds["*"]
    sec = df["_kbli_section"]
    df["_bound_normal"] = sec.map({k: v[0] for k, v in bounds.items()}).astype("float64").fillna(default[0])
    df["_bound_total"] = sec.map({k: v[1] for k, v in bounds.items()}).astype("float64").fillna(default[1])
    df["_hours_normal_excess"] = df["_hours_normal_pw"] - df["_bound_normal"]
    df["_hours_total_excess"] = df["_hours_per_worker"] - df["_bound_total"]
    df["_female_excess"] = _num(df, "workers_female") - total

    outputs = _num(df, "net_sales") + sum(_num(df, c).fillna(0) for c in OUTPUTS[1:])
    purchases = sum(_num(df, c).fillna(0) for c in PURCHASES)
    df["_value_added"] = outputs - purchases
    df["_va_pw"] = (df["_value_added"] / per_worker).round(0)

    if umk_table is not None and len(umk_table):
        umk = umk_table.astype({"kabkota_code": "str", "year": "int64"})
        year = int(period[:4])
        by_kab = umk[umk["year"] == year].set_index("kabkota_code")["umk_idr_per_month"].astype("float64")
        df["_umk"] = df["kabkota_code"].map(by_kab).astype("float64")
        employees = _num(df, "workers_pkwtt") + _num(df, "workers_pkwt")
        df["_wage_per_employee"] = (_num(df, "wages_salaries") / employees.where(employees > 0)).round(0)
        df["_wage_gap"] = df["_wage_per_employee"] - df["_umk"]
        df["_kabkota_name"] = (
            df["kabkota_code"].map({c: kabkota_display_name(c) for c in kaltim_kabkota()}).astype("str")
        )
    if previous is not None and len(previous):
        prev = previous.drop_duplicates("nib", keep="last").set_index("nib")
        df["_prev_period"] = df["nib"].map(prev["period"]).astype("str")
        prev_va_pw = df["nib"].map(prev["va_per_worker"]).astype("float64")
        df["_prev_va_pw"] = prev_va_pw.round(0)
        # A change against a non-positive base has no meaning; such rows are not tested.
        df["_va_pw_change"] = (df["_va_pw"] / prev_va_pw.where(prev_va_pw > 0) - 1).round(4)
        df["_va_pw_change_pct"] = (df["_va_pw_change"] * 100).round(1)
    return df


def previous_va_per_worker(accepted: pd.DataFrame) -> pd.DataFrame:
    """nib, period, va_per_worker of accepted rows (for the period-on-period check)."""
    if accepted.empty:
        return pd.DataFrame({"nib": [], "period": [], "va_per_worker": []})
    outputs = _num(accepted, "net_sales") + sum(_num(accepted, c).fillna(0) for c in OUTPUTS[1:])
    purchases = sum(_num(accepted, c).fillna(0) for c in PURCHASES)
    total = _num(accepted, "workers_avg_total")
    out = pd.DataFrame(
        {
            "nib": accepted["nib"].astype("str"),
            "period": accepted["period"].astype("str"),
            "va_per_worker": (outputs - purchases) / total.where(total > 0),
        }
    )
    return out.sort_values(["nib", "period"]).reset_index(drop=True)


# --- messages ------------------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    """A value as an Indonesian reader writes it: 1.234.567 and 50,5; empty for missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "ya" if v else "tidak"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}".replace(",", ".")
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if x.is_integer():
            return f"{int(x):,}".replace(",", ".")
        return f"{x:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return str(v)


def _fmt_en(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (int, np.integer)) or (isinstance(v, (float, np.floating)) and float(v).is_integer()):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):,.1f}"
    return str(v)


_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


def _render(template: str, rec: Mapping[str, Any], fmt: Any) -> str:
    return _PLACEHOLDER.sub(lambda m: fmt(rec.get(m.group(1))), template)


def failures_for(check: Check, frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """The failure records of ``check`` for the rows in ``mask`` (messages formatted per failing row)."""
    if not mask.any():
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    names = set(_PLACEHOLDER.findall(check.message_id)) | set(_PLACEHOLDER.findall(check.message_en))
    cols = [c for c in names if c in frame.columns and c != "value"]
    bad = frame.loc[mask, list(dict.fromkeys([ROW_ID, check.column, *cols]))]
    values = bad[check.column] if check.column in bad.columns else pd.Series("", index=bad.index)
    recs = bad[cols].to_dict("records")
    vals = values.tolist()
    msg_id = [_render(check.message_id, {**r, "value": v}, _fmt) for r, v in zip(recs, vals, strict=True)]
    msg_en = [_render(check.message_en, {**r, "value": v}, _fmt_en) for r, v in zip(recs, vals, strict=True)]
    return pd.DataFrame(
        {
            ROW_ID: bad[ROW_ID].to_numpy(),
            "rule_id": check.rule_id,
            "reason_code": check.reason_code,
            "severity": check.severity,
            "column": check.column,
            "value": [_fmt_en(v) for v in vals],
            "reason_id": msg_id,
            "reason_en": msg_en,
        }
    )


# --- Great Expectations --------------------------------------------------------------------------
def _gx_frame(frame: pd.DataFrame, checks: list[Check]) -> pd.DataFrame:
    """Only the tested columns, as numpy float64 / str so GX's pandas metrics handle NA cleanly."""
    out = {ROW_ID: frame[ROW_ID].astype("int64")}
    for t in dict.fromkeys(c.target for c in checks):
        s = frame[t]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[t] = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            out[t] = s.astype("str").where(s.notna(), np.nan)
    return pd.DataFrame(out)


def build_suite(checks: list[Check], name: str = "submissions") -> Any:
    """The GX suite for ``checks`` in constructor form (no context needed, no ids churn)."""
    import great_expectations as gx

    return gx.ExpectationSuite(name=name, expectations=[c.expectation() for c in checks])


def run_gx(
    frame: pd.DataFrame, checks: list[Check], *, period: str, docs_dir: Path | None = None
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Run the suite over ``frame`` (SUMMARY result format, failing ``_row_id`` samples).

    With ``docs_dir`` a file context is made there (a temporary folder, never the repository) and
    Data Docs are built; their files are returned as ``{relative path: bytes}`` for the caller to
    write through Storage.
    """
    return run_gx_frame(_gx_frame(frame, checks), checks, period=period, docs_dir=docs_dir)


def run_gx_frame(
    gdf: pd.DataFrame, checks: list[Check], *, period: str, docs_dir: Path | None = None
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """:func:`run_gx` on the frame GX sees (:func:`gx_frame`): its results depend on nothing else."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    name = f"submissions_{period}"
    if docs_dir is not None:
        ctx = gx.get_context(mode="file", project_root_dir=str(docs_dir))
    else:
        ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    bd = (
        ctx.data_sources.add_pandas("submissions")
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = ctx.suites.add(build_suite(checks, name))
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"{name}_vd", data=bd, suite=suite))
    result_format = {"result_format": "SUMMARY", "unexpected_index_column_names": [ROW_ID]}
    docs: dict[str, bytes] = {}
    if docs_dir is not None:
        cp = ctx.checkpoints.add(
            gx.Checkpoint(
                name=f"{name}_cp",
                validation_definitions=[vd],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="update_docs")],
                result_format=result_format,
            )
        )
        cp_res = cp.run(batch_parameters={"dataframe": gdf})
        res = next(iter(cp_res.run_results.values()))
        ctx.build_data_docs()
        site = Path(docs_dir) / "gx" / "uncommitted" / "data_docs" / "local_site"
        for p in sorted(site.rglob("*")):
            if p.is_file():
                docs[p.relative_to(site).as_posix()] = p.read_bytes()
    else:
        res = vd.run(batch_parameters={"dataframe": gdf}, result_format=result_format)
    out: list[dict[str, Any]] = []
    for r in res.results:
        meta = r.expectation_config.meta or {}
        result = r.result or {}
        sample = [int(d[ROW_ID]) for d in (result.get("partial_unexpected_index_list") or []) if ROW_ID in d]
        out.append(
            {
                "rule_id": meta.get("rule_id", ""),
                "severity": meta.get("severity", ""),
                "expectation": r.expectation_config.type,
                "success": bool(r.success),
                "unexpected_count": int(result.get("unexpected_count") or 0),
                "sample_row_ids": sample,
                "exception": bool((r.exception_info or {}).get("raised_exception")),
            }
        )
    return out, docs


# --- the whole validation ------------------------------------------------------------------------
def cell_error_failures(frame: pd.DataFrame, cell_errors: pd.DataFrame) -> pd.DataFrame:
    """Reader cell errors (text in a number, bad date, ...) as hard failures of their rows."""
    if cell_errors is None or cell_errors.empty or frame.empty:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    key = ["source_file", "source_sheet", "source_row"]
    left = frame[[*key, ROW_ID]].copy()
    right = cell_errors.copy()
    for df in (left, right):
        df["source_sheet"] = df["source_sheet"].astype("str").fillna("")
        df["source_row"] = pd.to_numeric(df["source_row"], errors="coerce").astype("Int64")
        df["source_file"] = df["source_file"].astype("str")
    m = right.merge(left, on=key, how="inner")
    if m.empty:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    return pd.DataFrame(
        {
            ROW_ID: m[ROW_ID].astype("int64").to_numpy(),
            "rule_id": "READ_" + m["reason_code"].astype("str").str.upper(),
            "reason_code": m["reason_code"].astype("str"),
            "severity": HARD,
            "column": m["column"].astype("str"),
            "value": m["value"].astype("str").fillna(""),
            "reason_id": m["reason_id"].astype("str"),
            "reason_en": m["reason_en"].astype("str"),
        }
    )


def validate_rows(
    rows: pd.DataFrame,
    period: str,
    *,
    cell_errors: pd.DataFrame | None = None,
    hours_bounds_week: Mapping[str, tuple[float, float]] | None = None,
    umk_table: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    docs_dir: Path | None = None,
    use_gx: bool = True,
) -> ValidationResult:
    """Validate rows read for ``period``: GX suite + masks from the same checks, plus reader cell errors.

    Per row and column only the first hard reason is kept (a cell the reader could not parse is not
    also reported as "missing"), so a company gets one clear instruction per cell.
    """
    frame = derive(rows, period, hours_bounds_week=hours_bounds_week, umk_table=umk_table, previous=previous)
    checks = build_checks(period, umk="_wage_gap" in frame.columns, previous="_va_pw_change" in frame.columns)
    parts = [cell_error_failures(frame, cell_errors)]
    counts: dict[str, int] = {}
    for c in checks:
        m = c.mask(frame)
        counts[c.rule_id] = int(m.sum())
        parts.append(failures_for(c, frame, m))
    parts = [p for p in parts if not p.empty]
    failures = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FAILURE_COLUMNS)
    failures = failures.drop_duplicates([ROW_ID, "column", "severity"], keep="first")
    # A rejected row's soft flags would only distract from what must be fixed.
    hard_ids = failures.loc[failures["severity"] == HARD, ROW_ID]
    failures = failures[(failures["severity"] == HARD) | ~failures[ROW_ID].isin(hard_ids)]
    failures = failures.reset_index(drop=True).astype({ROW_ID: "int64"})

    soft = failures[failures["severity"] == SOFT]
    for flag in FLAG_COLUMNS:
        codes = [k for k, v in FLAG_OF_REASON.items() if v == flag]
        ids = soft.loc[soft["reason_code"].isin(codes), ROW_ID]
        frame[flag] = frame[ROW_ID].isin(ids)
    joined = soft.groupby(ROW_ID)["reason_code"].agg(lambda s: ";".join(dict.fromkeys(s)))
    frame["flags"] = frame[ROW_ID].map(joined).fillna("").astype("str")
    result = ValidationResult(frame, failures, checks=checks, mask_counts=counts)
    if use_gx and len(frame):
        gx_results, docs = run_gx(frame, checks, period=period, docs_dir=docs_dir)
        result = with_gx(result, gx_results, docs)
    return result


def gx_frame(result: ValidationResult) -> pd.DataFrame:
    """The frame the GX suite of ``result.checks`` runs on (tested columns only)."""
    return _gx_frame(result.rows, result.checks)


def gx_digest(gdf: pd.DataFrame, checks: list[Check], period: str) -> str:
    """sha256 of everything a GX run's results and Data Docs are made from besides the code."""
    from tasks.cache_keys import frame_digest

    text = "\n".join([period, frame_digest(gdf), *(repr(c) for c in checks)])
    return hashlib.sha256(text.encode()).hexdigest()


def with_gx(
    result: ValidationResult, gx_results: list[dict[str, Any]], docs: dict[str, bytes]
) -> ValidationResult:
    """``result`` with a GX run's summary and Data Docs, and a diagnostic wherever GX and the pandas
    masks disagree (the masks decide; GX is the independent cross-check and the Data Docs)."""
    diagnostics = list(result.diagnostics)
    counts = result.mask_counts
    for r in gx_results:
        if r["exception"]:
            diagnostics.append(f"GX expectation {r['rule_id']} raised an exception; the pandas mask was used")
        elif r["unexpected_count"] != counts.get(r["rule_id"], 0):
            diagnostics.append(
                f"GX and pandas disagree on {r['rule_id']}: GX {r['unexpected_count']}, "
                f"pandas {counts.get(r['rule_id'], 0)}; the pandas mask decided"
            )
    return replace(result, gx_results=list(gx_results), docs_files=dict(docs), diagnostics=diagnostics)


# --- duplicates ----------------------------------------------------------------------------------
def resolve_duplicates(frame: pd.DataFrame, rejected: set[int]) -> pd.DataFrame:
    """Superseded rows among the valid ones: per (nib, period) the newest wins.

    Newest = latest ``submitted_on``, then the latest ``file_order`` (the order the manifest first
    saw the files, never file mtime), then the later row in the file. Rows already rejected take no
    part: a broken resubmission does not displace an earlier valid one (both are reported).
    Returns failure records (hard, ``superseded``) naming the file and row that replaced each one.
    """
    ok = frame[~frame[ROW_ID].isin(rejected)]
    if ok.empty:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    keyed = ok.assign(
        _sub=pd.to_datetime(ok["submitted_on"], errors="coerce"),
        _ord=pd.to_numeric(ok["file_order"], errors="coerce").fillna(-1),
        _row=pd.to_numeric(ok["source_row"], errors="coerce").fillna(-1),
    ).sort_values(["nib", "period", "_sub", "_ord", "_row"], na_position="first", kind="mergesort")
    last = keyed.groupby(["nib", "period"], sort=False).tail(1)
    winners = last.set_index(["nib", "period"])[["source_file", "source_row"]]
    losers = keyed[~keyed[ROW_ID].isin(last[ROW_ID])]
    if losers.empty:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    w = winners.reindex(pd.MultiIndex.from_frame(losers[["nib", "period"]]))
    wfile = w["source_file"].astype("str").to_numpy()
    wrow = pd.to_numeric(w["source_row"]).astype("int64").to_numpy()
    return pd.DataFrame(
        {
            ROW_ID: losers[ROW_ID].to_numpy(),
            "rule_id": "SUB_DUPLICATE",
            "reason_code": "superseded",
            "severity": HARD,
            "column": "nib",
            "value": losers["nib"].astype("str").to_numpy(),
            "reason_id": [
                f"Digantikan oleh kiriman yang lebih baru (file {f} baris {r}). Tidak perlu tindakan bila "
                "kiriman terbaru sudah benar." for f, r in zip(wfile, wrow, strict=True)
            ],
            "reason_en": [
                f"Superseded by a newer submission (file {f} row {r}). No action needed if the newer one "
                "is correct." for f, r in zip(wfile, wrow, strict=True)
            ],
        }
    )  # fmt: skip
