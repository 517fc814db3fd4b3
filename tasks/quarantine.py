"""Split validated rows into accepted and quarantined, and write both (Parquet + readable summaries).

Invariant (checked here, not just tested): rows read = rows accepted + rows quarantined. Unreadable
files are quarantined as files (they contributed no rows). Nothing is dropped silently: every
quarantined row or file carries its reasons in Indonesian and English.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from schemas.codes import pdrb_group_code
from schemas.submission import SUBMISSION_FIELDS
from schemas.submission_outputs import (
    QUARANTINE_META_FIELDS,
    QUARANTINE_REASON_FIELDS,
    accepted_schema,
    quarantine_reasons_schema,
    quarantine_rows_schema,
)
from tasks.parquet_io import frame_to_table, table_bytes, write_partition
from tasks.storage import Storage
from tasks.submission_readers import neutralise
from tasks.submission_validate import FLAG_COLUMNS, HARD, ROW_ID

ACCEPTED_DATASET = "processed/submissions"
QUARANTINE_DATASET = "processed/quarantine"
SPEC_NAMES = [f.name for f in SUBMISSION_FIELDS]


class InvariantError(AssertionError):
    """Rows read != accepted + quarantined: a bug, never a data problem."""


@dataclass
class Outcome:
    """The period's result before writing."""

    period: str
    accepted: pd.DataFrame  # accepted schema columns
    quarantine_rows: pd.DataFrame  # quarantine rows schema columns
    reasons: pd.DataFrame  # hard reasons of quarantined rows + unreadable files
    soft: pd.DataFrame  # soft flags of accepted rows (for receipts)
    notices: pd.DataFrame  # file warnings (read, but something to know)
    rows_read: int
    files_unreadable: int
    counts: dict[str, int] = field(default_factory=dict)


def _empty(fields: Any) -> pd.DataFrame:
    return pd.DataFrame({f.name: pd.Series([], dtype="object") for f in fields})


def assemble(
    frame: pd.DataFrame,
    failures: pd.DataFrame,
    file_errors: pd.DataFrame,
    period: str,
) -> Outcome:
    """Accepted rows, quarantined rows/files and their reasons from the validated ``frame``.

    ``frame`` holds every row read (with ``_row_id`` and flag columns); ``failures`` every hard
    and soft failure (validation, reader cell errors, superseded duplicates).
    """
    hard = failures[failures["severity"] == HARD]
    rejected = frame[ROW_ID].isin(hard[ROW_ID])
    acc = frame.loc[~rejected].copy()
    rej = frame.loc[rejected].copy()

    acc["kbli_section"] = acc["_kbli_section"].astype("str")
    acc["pdrb_group"] = acc["kbli_section"].map(pdrb_group_code).astype("str")
    for c in FLAG_COLUMNS:
        acc[c] = acc[c].astype(bool) if c in acc.columns else False
    acc["flags"] = acc["flags"].astype("str") if "flags" in acc.columns else ""
    acc = acc.sort_values(["nib", "source_file", "source_row"], kind="stable")
    accepted = acc[accepted_schema().names].reset_index(drop=True)

    prov = frame.set_index(ROW_ID)[["source_file", "source_sheet", "source_row", "file_sha256", "nib"]]
    hard_rows = hard.join(prov, on=ROW_ID)
    reasons_rows = pd.DataFrame(
        {
            "kind": "row",
            "source_file": hard_rows["source_file"].astype("str"),
            "source_sheet": hard_rows["source_sheet"].astype("str"),
            "source_row": hard_rows["source_row"].astype("Int64"),
            "nib": hard_rows["nib"].astype("str"),
            "column": hard_rows["column"].astype("str"),
            "value": hard_rows["value"].astype("str"),
            "severity": HARD,
            "rule_id": hard_rows["rule_id"].astype("str"),
            "reason_code": hard_rows["reason_code"].astype("str"),
            "reason_id": hard_rows["reason_id"].astype("str"),
            "reason_en": hard_rows["reason_en"].astype("str"),
            ROW_ID: hard_rows[ROW_ID].astype("int64"),
        }
    )
    errs = file_errors[file_errors["severity"] == "error"] if len(file_errors) else file_errors
    reasons_files = pd.DataFrame(
        {
            "kind": "file",
            "source_file": errs["source_file"].astype("str") if len(errs) else [],
            "source_sheet": None,
            "source_row": pd.array([pd.NA] * len(errs), dtype="Int64"),
            "nib": None,
            "column": "",
            "value": None,
            "severity": HARD,
            "rule_id": ("READ_" + errs["reason_code"].astype("str").str.upper()) if len(errs) else [],
            "reason_code": errs["reason_code"].astype("str") if len(errs) else [],
            "reason_id": errs["reason_id"].astype("str") if len(errs) else [],
            "reason_en": errs["reason_en"].astype("str") if len(errs) else [],
            ROW_ID: pd.array([pd.NA] * len(errs), dtype="Int64"),
        }
    )
    parts = [d for d in (reasons_rows, reasons_files) if len(d)]
    if parts:
        reasons = pd.concat(parts, ignore_index=True)
    else:
        reasons = _empty(QUARANTINE_REASON_FIELDS).assign(**{ROW_ID: pd.Series([], dtype="Int64")})

    q_rows = _quarantine_rows(rej, hard, errs)
    soft = failures[(failures["severity"] != HARD) & failures[ROW_ID].isin(acc[ROW_ID])].join(prov, on=ROW_ID)
    notices = file_errors[file_errors["severity"] != "error"] if len(file_errors) else file_errors

    rows_read = len(frame)
    if len(accepted) + len(rej) != rows_read:
        raise InvariantError(
            f"rows read {rows_read} != accepted {len(accepted)} + quarantined {len(rej)} for {period}"
        )
    out = Outcome(period, accepted, q_rows, reasons, soft, notices, rows_read, len(errs))
    out.counts = {
        "rows_read": rows_read,
        "accepted": len(accepted),
        "quarantined": len(rej),
        "files_unreadable": len(errs),
        "companies": int(accepted["nib"].nunique()),
        "flagged": int((accepted["flags"] != "").sum()),
        "superseded": int((hard["reason_code"] == "superseded").sum()),
    }
    return out


def _quarantine_rows(rej: pd.DataFrame, hard: pd.DataFrame, errs: pd.DataFrame) -> pd.DataFrame:
    names = [f.name for f in QUARANTINE_META_FIELDS] + SPEC_NAMES
    parts: list[pd.DataFrame] = []
    if len(rej):
        g = hard[hard[ROW_ID].isin(rej[ROW_ID])].groupby(ROW_ID, sort=False)
        agg = pd.DataFrame(
            {
                "reason_codes": g["reason_code"].agg(lambda s: ";".join(dict.fromkeys(s))),
                "columns": g["column"].agg(lambda s: ";".join(dict.fromkeys(s))),
                "reasons_id": g["reason_id"].agg(" | ".join),
                "reasons_en": g["reason_en"].agg(" | ".join),
            }
        )
        r = rej.join(agg, on=ROW_ID)
        r["kind"] = "row"
        parts.append(r[names])
    if len(errs):
        f = pd.DataFrame(
            {
                "kind": "file",
                "source_file": errs["source_file"].astype("str").to_numpy(),
                "source_sheet": None,
                "source_row": pd.array([pd.NA] * len(errs), dtype="Int64"),
                "file_sha256": None,
                "reason_codes": errs["reason_code"].astype("str").to_numpy(),
                "columns": "",
                "reasons_id": errs["reason_id"].astype("str").to_numpy(),
                "reasons_en": errs["reason_en"].astype("str").to_numpy(),
            }
        )
        for n in SPEC_NAMES:
            f[n] = None
        parts.append(f[names])
    if not parts:
        return _empty(QUARANTINE_META_FIELDS + SUBMISSION_FIELDS)[names]
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    return out.sort_values(["kind", "source_file", "source_row"], kind="stable", ignore_index=True)


# --- writing -------------------------------------------------------------------------------------------
def _table(df: pd.DataFrame, schema: Any) -> Any:
    import pyarrow as pa

    cols = {}
    for f in schema:
        s = df[f.name] if f.name in df.columns else pd.Series([None] * len(df))
        if pa.types.is_date32(f.type):
            s = pd.to_datetime(s, errors="coerce").dt.date
        elif pa.types.is_string(f.type):
            s = s.astype("object").where(s.notna(), None)
        cols[f.name] = pa.array(s.tolist() if len(df) else [], type=f.type, from_pandas=True)
    return pa.Table.from_pydict(cols, schema=schema)


def write_accepted(storage: Storage, outcome: Outcome, metadata: dict[str, Any]) -> str:
    """Accepted rows -> ``processed/submissions/period=YYYY-MM/part-0.parquet`` (replaced atomically)."""
    table = frame_to_table(_to_arrow_ready(outcome.accepted), accepted_schema())
    return write_partition(storage, ACCEPTED_DATASET, f"period={outcome.period}", table, metadata)


def _to_arrow_ready(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    if "submitted_on" in out.columns:
        out["submitted_on"] = pd.to_datetime(out["submitted_on"], errors="coerce").dt.date
    return out


def quarantine_csv(outcome: Outcome) -> str:
    """One line per reason, every text cell neutralised against spreadsheet formula injection."""
    cols = ["kind", "source_file", "source_sheet", "source_row", "nib", "column", "value", "reason_code",
            "reason_id", "reason_en"]  # fmt: skip
    df = outcome.reasons[cols].copy()
    for c in cols:
        if c != "source_row":
            df[c] = neutralise(df[c].astype("str").fillna(""))
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def summary_md(outcome: Outcome) -> str:
    c = outcome.counts
    lines = [
        f"# Karantina kiriman perusahaan — periode {outcome.period}",
        "",
        f"- Baris dibaca: {c['rows_read']}; diterima: {c['accepted']}; dikarantina: {c['quarantined']}",
        f"- Berkas tidak terbaca: {c['files_unreadable']}",
        "",
    ]
    if outcome.reasons.empty:
        lines.append("Tidak ada baris atau berkas yang dikarantina.")
    else:
        lines += ["| Berkas | Baris | Kolom | Alasan | Reason |", "|---|---|---|---|---|"]
        for r in outcome.reasons.itertuples(index=False):
            row = "" if pd.isna(r.source_row) else str(int(r.source_row))
            cells = [r.source_file, row, r.column or "", r.reason_id, r.reason_en]
            lines.append(
                "| " + " | ".join(str(x).replace("|", "\\|").replace("\n", " ") for x in cells) + " |"
            )
    if len(outcome.notices):
        lines += ["", "## Catatan (berkas tetap dibaca)", ""]
        lines += [f"- {n.source_file}: {n.reason_id}" for n in outcome.notices.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def summary_html(outcome: Outcome) -> str:
    c = outcome.counts
    e = html.escape
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{e('' if pd.isna(v) else str(int(v)) if k == 'source_row' else str(v))}</td>"
            for k, v in (
                ("f", r.source_file),
                ("source_row", r.source_row),
                ("c", r.column),
                ("i", r.reason_id),
                ("e", r.reason_en),
            )
        )  # fmt: skip
        + "</tr>"
        for r in outcome.reasons.itertuples(index=False)
    )
    notes = "".join(f"<li>{e(n.source_file)}: {e(n.reason_id)}</li>" for n in outcome.notices.itertuples())
    return (
        "<!doctype html><html lang='id'><head><meta charset='utf-8'>"
        f"<title>Karantina {e(outcome.period)}</title><style>body{{font-family:sans-serif;margin:1.5em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px 6px;vertical-align:top}"
        "</style></head><body>"
        f"<h1>Karantina kiriman perusahaan — periode {e(outcome.period)}</h1>"
        f"<p>Baris dibaca: {c['rows_read']}; diterima: {c['accepted']}; dikarantina: {c['quarantined']}; "
        f"berkas tidak terbaca: {c['files_unreadable']}.</p>"
        + (
            "<table><thead><tr><th>Berkas</th><th>Baris</th><th>Kolom</th><th>Alasan</th><th>Reason</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
            if rows
            else "<p>Tidak ada baris atau berkas yang dikarantina.</p>"
        )
        + (f"<h2>Catatan (berkas tetap dibaca)</h2><ul>{notes}</ul>" if notes else "")
        + "</body></html>\n"
    )


def write_quarantine(storage: Storage, outcome: Outcome, metadata: dict[str, Any]) -> list[str]:
    """``processed/quarantine/period=YYYY-MM/``: rows.parquet, reasons.parquet, quarantine.csv, summary.md/.html."""
    rel = f"{QUARANTINE_DATASET}/period={outcome.period}"
    rows_t = _table(outcome.quarantine_rows, quarantine_rows_schema())
    reasons_t = _table(outcome.reasons, quarantine_reasons_schema())
    files = {
        "rows.parquet": table_bytes(rows_t, metadata),
        "reasons.parquet": table_bytes(reasons_t, metadata),
        "quarantine.csv": quarantine_csv(outcome).encode("utf-8"),
        "summary.md": summary_md(outcome).encode("utf-8"),
        "summary.html": summary_html(outcome).encode("utf-8"),
    }

    def build(tmp: str) -> None:
        for name, data in files.items():
            storage.write_bytes(f"{tmp}/{name}", data)

    storage.replace_dir(rel, build)
    return [storage.url(f"{rel}/{n}") for n in files]


__all__ = ["Outcome", "InvariantError", "assemble", "write_accepted", "write_quarantine"]
