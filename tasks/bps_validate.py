"""Validation of the tidy BPS tables: Great Expectations suites derived from ``schemas/``, plus the
cross-region checks GX has no expectation for (regions complete per year, provinces summing to the
aggregate row), done explicitly in pandas beside it.

Hard failures stop the BPS stage; soft ones become diagnostics. GX is imported inside the functions
(its import costs ~5 s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from schemas.boundaries import codes_for
from schemas.codes import NATIONAL_CODE, kaltim_kabkota, pdrb_groups, provinces
from schemas.fields import Field
from schemas.indicators import (
    EMPLOYED_FIELDS,
    GRDP_FIELDS,
    KABKOTA,
    NATIONAL,
    PROVINCE,
    PROVINCE_SUM,
    SECTOR_FIELDS,
)

HARD = "hard"
SOFT = "soft"
PROVINCE_SUM_CODE = "99"
PDRB_SUM_TOLERANCE = 1e-4  # relative; the BPS "34 PROVINSI" row equals the provinces' sum to ~1e-9
KEY_COLUMNS = ["year", "region_code"]


@dataclass
class CheckOutcome:
    check: str  # GX expectation type or the name of a pandas check
    column: str
    success: bool
    severity: str
    unexpected_count: int = 0
    sample: list[Any] = field(default_factory=list)
    message: str = ""


@dataclass
class ValidationReport:
    table: str
    outcomes: list[CheckOutcome]

    @property
    def hard_failures(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == HARD]

    @property
    def soft_failures(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == SOFT]

    @property
    def success(self) -> bool:
        return not self.hard_failures

    def lines(self, failed_only: bool = True) -> list[str]:
        out = []
        for o in self.outcomes:
            if failed_only and o.success:
                continue
            where = f" [{o.column}]" if o.column else ""
            sample = f"; e.g. {o.sample[:5]}" if o.sample else ""
            out.append(
                f"{self.table}: {o.check}{where} {'ok' if o.success else 'FAILED'} ({o.severity}, "
                f"{o.unexpected_count} rows){': ' + o.message if o.message else ''}{sample}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "success": self.success,
            "evaluated": len(self.outcomes),
            "failed": sum(not o.success for o in self.outcomes),
            "outcomes": [asdict(o) for o in self.outcomes],
        }


class BpsValidationError(ValueError):
    """A BPS table failed a hard check; the message lists what failed where."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        lines = "\n  ".join(report.lines())
        super().__init__(
            f"BPS table {report.table} failed validation, the BPS stage stopped:\n  {lines}\n"
            "Check the stored BPS response/file named in the table's source column, or fall back to the "
            "bundled snapshot (unset BPS_API_KEY or set PRODUKTIVITAS_BPS_OFFLINE=true)."
        )


# --- suites from the field specs ---------------------------------------------------------------------


def _field_expectations(fields: Sequence[Field], strictly_positive: Sequence[str]) -> list[Any]:
    import great_expectations.expectations as gxe

    exps: list[Any] = [
        gxe.ExpectTableColumnsToMatchSet(column_set=[f.name for f in fields], exact_match=True)
    ]
    for f in fields:
        if not f.nullable:
            exps.append(gxe.ExpectColumnValuesToNotBeNull(column=f.name))
        if f.dtype == "string" and not f.nullable:
            exps.append(gxe.ExpectColumnValuesToBeOfType(column=f.name, type_="str"))
        if f.allowed:
            exps.append(gxe.ExpectColumnValuesToBeInSet(column=f.name, value_set=list(f.allowed)))
        if f.regex:
            exps.append(gxe.ExpectColumnValuesToMatchRegex(column=f.name, regex=f.regex))
        if f.min_value is not None or f.max_value is not None:
            exps.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=f.name,
                    min_value=f.min_value,
                    max_value=f.max_value,
                    strict_min=f.name in strictly_positive,
                )
            )
    return exps


def _run_gx(
    table: str, frame: pd.DataFrame, expectations: list[Any], key_columns: list[str]
) -> list[CheckOutcome]:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    bd = (
        ctx.data_sources.add_pandas(f"bps_{table}")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = ctx.suites.add(gx.ExpectationSuite(name=f"bps_{table}", expectations=expectations))
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"bps_{table}_vd", data=bd, suite=suite))
    res = vd.run(
        batch_parameters={"dataframe": frame.reset_index(drop=True)},
        result_format={"result_format": "SUMMARY", "unexpected_index_column_names": key_columns},
    )
    out = []
    for r in res.results:
        cfg = r.expectation_config
        kwargs = cfg.kwargs
        column = str(kwargs.get("column") or ",".join(kwargs.get("column_list") or []))
        result = r.result or {}
        sample = [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in d.items()}
            for d in (result.get("partial_unexpected_index_list") or [])[:5]
            if isinstance(d, dict)
        ]
        message = ""
        if r.exception_info and r.exception_info.get("raised_exception"):
            message = str(r.exception_info.get("exception_message"))[:200]
        elif not r.success and "observed_value" in result:
            message = f"observed {result['observed_value']}"
        out.append(
            CheckOutcome(
                check=cfg.type,
                column=column,
                success=bool(r.success),
                severity=HARD,
                unexpected_count=int(result.get("unexpected_count") or 0),
                sample=sample,
                message=message,
            )
        )
    return out


# --- explicit cross-region checks ------------------------------------------------------------------------


def _regions_complete(frame: pd.DataFrame, level: str, severity: str = HARD) -> CheckOutcome:
    """Each year's province rows are exactly the 34 or 38 codes of the boundary they carry."""
    rows = frame[frame["region_level"] == level]
    problems = []
    for (year, boundary), grp in rows.groupby(["year", "boundary"], sort=True):
        expected = set(codes_for(str(boundary)))
        got = set(grp["region_code"])
        if got != expected:
            problems.append(
                {
                    "year": int(year),
                    "boundary": boundary,
                    "missing": sorted(expected - got),
                    "unexpected": sorted(got - expected),
                }  # fmt: skip
            )
    return CheckOutcome(
        check="regions_complete_per_year",
        column="region_code",
        success=not problems,
        severity=severity,
        unexpected_count=len(problems),
        sample=problems[:5],
        message="" if not problems else "province set of a year does not match its boundary (34 or 38)",
    )


def _kabkota_complete(frame: pd.DataFrame, severity: str) -> CheckOutcome:
    rows = frame[frame["region_level"] == KABKOTA]
    expected = set(kaltim_kabkota())
    problems = [
        {"year": int(y), "missing": sorted(expected - set(g["region_code"]))}
        for y, g in rows.groupby("year")
        if set(g["region_code"]) != expected
    ]
    return CheckOutcome(
        "kabkota_complete_per_year", "region_code", not problems, severity, len(problems), problems[:6],
        "" if not problems else "not all 10 Kaltim regencies/cities present in some years",
    )  # fmt: skip


def _sums_to_aggregate(
    frame: pd.DataFrame, value: str, aggregate_level: str, aggregate_code: str, rel_tol: float
) -> CheckOutcome:
    """Provinces of each year sum to the aggregate row of that year (pandas: GX has no such expectation)."""
    prov = frame[frame["region_level"] == PROVINCE].groupby("year")[value].sum()
    agg = frame[(frame["region_level"] == aggregate_level) & (frame["region_code"] == aggregate_code)]
    agg = agg.set_index("year")[value]
    years = sorted(set(prov.index) & set(agg.index))
    problems = []
    for y in years:
        a, s = float(agg[y]), float(prov[y])
        if abs(s - a) > rel_tol * abs(a):
            problems.append(
                {"year": int(y), "aggregate": a, "sum_of_provinces": s, "diff_pct": (s - a) / a * 100}
            )
    return CheckOutcome(
        check="provinces_sum_to_aggregate",
        column=value,
        success=not problems,
        severity=HARD,
        unexpected_count=len(problems),
        sample=problems[:5],
        message=(
            f"checked {len(years)} years against row {aggregate_code}, tolerance {rel_tol:g} relative"
            if not problems
            else f"sum of provinces differs from row {aggregate_code} by more than {rel_tol:g} relative"
        ),
    )


# --- the three tables ------------------------------------------------------------------------------------


def _region_codes() -> list[str]:
    return sorted({NATIONAL_CODE, PROVINCE_SUM_CODE, *provinces(), *kaltim_kabkota()})


def validate_grdp(frame: pd.DataFrame) -> ValidationReport:
    import great_expectations.expectations as gxe

    exps = _field_expectations(GRDP_FIELDS, strictly_positive=["grdp_adhk2010_billion_idr"])
    exps += [
        gxe.ExpectColumnValuesToBeInSet(column="region_code", value_set=_region_codes()),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=KEY_COLUMNS),
        gxe.ExpectColumnValuesToNotBeNull(column="grdp_adhk2010_billion_idr"),
    ]
    outcomes = _run_gx("grdp_adhk2010_by_region", frame, exps, KEY_COLUMNS)
    outcomes.append(_regions_complete(frame, PROVINCE))
    outcomes.append(
        _sums_to_aggregate(
            frame, "grdp_adhk2010_billion_idr", PROVINCE_SUM, PROVINCE_SUM_CODE, PDRB_SUM_TOLERANCE
        )
    )
    # Kab/kota PDRB is known to be partial (4-6 of 10 in 2021-2023): worth a diagnostic, not a stop.
    if (frame["region_level"] == KABKOTA).any():
        outcomes.append(_kabkota_complete(frame, SOFT))
    nat = frame[frame["region_level"] == NATIONAL]
    prov_years = set(frame.loc[frame["region_level"] == PROVINCE, "year"])
    missing = sorted(prov_years - set(nat["year"]))
    outcomes.append(
        CheckOutcome(
            "national_pdb_per_year",
            "grdp_adhk2010_billion_idr",
            not missing,
            SOFT,
            len(missing),
            missing,
            "" if not missing else "no national PDB for these years",
        )  # fmt: skip
    )
    return ValidationReport("grdp_adhk2010_by_region", outcomes)


def validate_employed(frame: pd.DataFrame) -> ValidationReport:
    import great_expectations.expectations as gxe

    exps = _field_expectations(EMPLOYED_FIELDS, strictly_positive=["employed_persons"])
    exps += [
        gxe.ExpectColumnValuesToBeInSet(
            column="region_code", value_set=sorted({NATIONAL_CODE, *provinces(), *kaltim_kabkota()})
        ),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=KEY_COLUMNS),
    ]
    outcomes = _run_gx("employed_by_region", frame, exps, KEY_COLUMNS)
    outcomes.append(_regions_complete(frame, PROVINCE))
    outcomes.append(_sums_to_aggregate(frame, "employed_persons", NATIONAL, NATIONAL_CODE, 0.0))
    if (frame["region_level"] == KABKOTA).any():
        outcomes.append(_kabkota_complete(frame, HARD))
    return ValidationReport("employed_by_region", outcomes)


def validate_sector(frame: pd.DataFrame) -> ValidationReport:
    import great_expectations.expectations as gxe

    exps = _field_expectations(SECTOR_FIELDS, strictly_positive=[])
    exps += [
        gxe.ExpectColumnValuesToBeInSet(column="sector_code", value_set=sorted(pdrb_groups())),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["year", "region_code", "sector_code"]),
    ]
    outcomes = _run_gx("kaltim_employment_by_sector", frame, exps, ["year", "sector_code"])
    n = frame.groupby("year")["sector_code"].nunique()
    short = {int(y): int(c) for y, c in n.items() if c != len(pdrb_groups())}
    outcomes.append(
        CheckOutcome(
            "sectors_complete_per_year",
            "sector_code",
            not short,
            HARD,
            len(short),
            [short] if short else [],
            "" if not short else f"expected {len(pdrb_groups())} industry groups per year",
        )  # fmt: skip
    )
    return ValidationReport("kaltim_employment_by_sector", outcomes)


def raise_on_hard(report: ValidationReport) -> ValidationReport:
    if not report.success:
        raise BpsValidationError(report)
    return report
