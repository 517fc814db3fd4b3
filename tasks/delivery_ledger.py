"""The delivery ledger: one JSON line per delivery attempt outcome, so a re-run never sends twice.

``processed/deliveries/ledger.jsonl`` holds period, kind (bulletin | company_report), recipient,
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


def latest(entries: list[dict[str, Any]], period: str, kind: str, recipient: str) -> dict[str, Any] | None:
    """The most recent entry for one message (recipient compared case-insensitively)."""
    r = recipient.strip().lower()
    found = None
    for e in entries:
        if e["period"] == period and e["kind"] == kind and e["recipient"].strip().lower() == r:
            found = e
    return found


def record(
    storage: Storage,
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
    entry = {
        "period": period,
        "kind": kind,
        "recipient": recipient,
        "message_id": message_id,
        "content_sha256": content_sha,
        "status": status,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if detail:
        entry["detail"] = detail
    if outbox_path:
        entry["outbox_path"] = outbox_path
    storage.append_line(LEDGER, json.dumps(entry, ensure_ascii=False, sort_keys=True))
    return entry
