"""The manifest of files received per period: when the office first saw each file, in what order.

``processed/manifests/submissions/<YYYY-MM>.jsonl`` holds one JSON object per line (sha256, file,
size_bytes, first_seen_order, first_seen_at). It is append-only: a file seen before keeps its order
and time on every later run. That order, never the file's mtime (which copying or syncing changes),
decides between two submissions of the same company for the same month.

A file is identified by its name *and* its content hash: the same bytes under a new name, or new
bytes under an old name, are a new arrival.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from tasks.storage import Storage

MANIFEST_DIR = "processed/manifests/submissions"


@dataclass(frozen=True)
class ManifestEntry:
    sha256: str
    file: str
    size_bytes: int
    first_seen_order: int
    first_seen_at: str  # ISO 8601, UTC, e.g. "2025-09-03T01:02:03Z"

    @property
    def key(self) -> tuple[str, str]:
        return (self.file, self.sha256)


def manifest_path(period: str) -> str:
    return f"{MANIFEST_DIR}/{period}.jsonl"


def load_manifest(storage: Storage, period: str) -> list[ManifestEntry]:
    """Entries in first-seen order; an absent manifest is an empty list."""
    rel = manifest_path(period)
    if not storage.exists(rel):
        return []
    entries = []
    for line in storage.read_text(rel).splitlines():
        if line.strip():
            d = json.loads(line)
            entries.append(
                ManifestEntry(
                    sha256=str(d["sha256"]),
                    file=str(d["file"]),
                    size_bytes=int(d["size_bytes"]),
                    first_seen_order=int(d["first_seen_order"]),
                    first_seen_at=str(d["first_seen_at"]),
                )
            )
    return sorted(entries, key=lambda e: e.first_seen_order)


def register_files(
    storage: Storage,
    period: str,
    seen: Iterable[tuple[str, str, int]],
    now: datetime | None = None,
) -> dict[tuple[str, str], ManifestEntry]:
    """Record files ``(file, sha256, size_bytes)`` not yet in the manifest and return all entries by key.

    New files seen in the same run are ordered by name, so a run is reproducible; they share the
    run's timestamp. Existing lines are never rewritten.
    """
    existing = load_manifest(storage, period)
    by_key = {e.key: e for e in existing}
    next_order = max((e.first_seen_order for e in existing), default=0) + 1
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    new: list[ManifestEntry] = []
    for file, sha, size in sorted(set(seen)):
        if (file, sha) in by_key:
            continue
        entry = ManifestEntry(sha, file, int(size), next_order, stamp)
        next_order += 1
        by_key[entry.key] = entry
        new.append(entry)
    if new:
        rel = manifest_path(period)
        old = storage.read_text(rel) if storage.exists(rel) else ""
        if old and not old.endswith("\n"):
            old += "\n"
        lines = "".join(json.dumps(asdict(e), ensure_ascii=False, sort_keys=True) + "\n" for e in new)
        storage.write_text(rel, old + lines)
    return by_key
