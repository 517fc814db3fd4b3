"""The delivery ledger: one JSON line per delivery attempt outcome, so a re-run never sends twice.

``processed/deliveries/ledger.jsonl`` holds period, kind (bulletin | company_report-<nib>), recipient,
message-id, content sha256, status and time. A message whose latest entry is ``sent`` or
``written to outbox`` is done for that period; ``failed`` means it waits in the outbox and the
next run tries again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tasks.storage import Storage

LEDGER = "processed/deliveries/ledger.jsonl"
SENT = "sent"
OUTBOX = "written to outbox"
FAILED = "failed"
DONE = (SENT, OUTBOX)


def read_ledger(storage: Storage) -> list[dict[str, Any]]:
    if not storage.exists(LEDGER):
        return []
    return [json.loads(line) for line in storage.read_text(LEDGER).splitlines() if line.strip()]


def _key(period: str, kind: str, recipient: str) -> tuple[str, str, str]:
    return period, kind, recipient.strip().lower()


def latest(entries: list[dict[str, Any]], period: str, kind: str, recipient: str) -> dict[str, Any] | None:
    """The most recent entry for one message (recipient compared case-insensitively)."""
    return latest_index(entries).get(_key(period, kind, recipient))


def latest_index(entries: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(period, kind, lower-cased recipient) -> its most recent entry: one pass, then a look-up per message."""
    return {_key(e["period"], e["kind"], e["recipient"]): e for e in entries}


def lookup(
    index: dict[tuple[str, str, str], dict[str, Any]], period: str, kind: str, recipient: str
) -> dict[str, Any] | None:
    return index.get(_key(period, kind, recipient))


def entry(
    *,
    period: str,
    kind: str,
    recipient: str,
    message_id: str,
    content_sha: str,
    status: str,
    detail: str = "",
    outbox_path: str = "",
) -> dict[str, Any]:
    """One ledger line (not yet written; see :func:`append`)."""
    e = {
        "period": period,
        "kind": kind,
        "recipient": recipient,
        "message_id": message_id,
        "content_sha256": content_sha,
        "status": status,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if detail:
        e["detail"] = detail
    if outbox_path:
        e["outbox_path"] = outbox_path
    return e


def append(storage: Storage, entries: list[dict[str, Any]]) -> None:
    """Append many entries in one atomic rewrite (one per run, not one per message: the ledger grows)."""
    if not entries:
        return
    old = storage.read_text(LEDGER) if storage.exists(LEDGER) else ""
    if old and not old.endswith("\n"):
        old += "\n"
    lines = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entries)
    storage.write_text(LEDGER, old + lines)


def record(storage: Storage, **fields: Any) -> dict[str, Any]:
    """Write one entry now (see :func:`entry` for the fields)."""
    e = entry(**fields)
    append(storage, [e])
    return e
