"""The raw landing zone for BPS WebAPI responses: every answer kept byte for byte, never overwritten.

Layout (relative to the storage root)::

    raw/bps/webapi/domain{domain}/var{var}/{YYYYMMDDTHHMMSSZ}-{sha256[:12]}.json
    raw/bps/webapi/manifest.jsonl        one line per stored response (this module)
    raw/bps/snapshot/manifest.jsonl      the bundled snapshot (same fields; kind bundled-webapi / bundled-file)

A *retrieval* is one ``fetch_data`` call: several chunk responses with one ``retrieval_id``. Offline runs use
:func:`newest_stored` to find the newest complete retrieval of a table and :func:`read_stored_body` to load it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from tasks.bps_client import BpsClient, RawResponse
from tasks.logs import get_logger
from tasks.secrets import redact
from tasks.storage import Storage

WEBAPI_DIR = "raw/bps/webapi"
WEBAPI_MANIFEST = f"{WEBAPI_DIR}/manifest.jsonl"
SNAPSHOT_MANIFEST = "raw/bps/snapshot/manifest.jsonl"
MANIFESTS = {"webapi": WEBAPI_MANIFEST, "snapshot": SNAPSHOT_MANIFEST}
SOURCE = "BPS WebAPI"
DATA_KINDS = ("webapi", "bundled-webapi")  # raw model=data JSON bodies, decodable by tasks.bps_decode
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _compact(fetched_at: str) -> str:
    return _parse_time(fetched_at).strftime("%Y%m%dT%H%M%SZ")


def _parse_time(text: object) -> datetime:
    try:
        dt = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        return _EPOCH
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _last_update(body: bytes) -> str | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    value = parsed.get("last_update") if isinstance(parsed, dict) else None
    return str(value) if value not in (None, "") else None


def store_response(storage: Storage, resp: RawResponse, *, var: int, domain: str) -> dict:
    """Write ``resp.body`` unchanged under ``raw/bps/webapi/`` and append its manifest line; returns the line.

    An existing file is never replaced: the name carries the content hash, so a second answer with the
    same name is the same bytes and only gets its own manifest line.
    """
    domain = str(domain)
    rel = f"{WEBAPI_DIR}/domain{domain}/var{int(var)}/{_compact(resp.fetched_at)}-{resp.sha256[:12]}.json"
    written = storage.write_new(rel, resp.body)
    if not written and hashlib.sha256(storage.read_bytes(rel)).hexdigest() != resp.sha256:
        raise FileExistsError(
            f"{storage.url(rel)} exists with other content; the raw landing zone is never overwritten"
        )
    entry = {
        "path": rel,
        "url": redact(resp.url),
        "retrieved_at": resp.fetched_at,
        "sha256": resp.sha256,
        "var": int(var),
        "domain": domain,
        "th": resp.params.get("th"),
        "last_update": _last_update(resp.body),
        "source": SOURCE,
        "kind": "webapi",
        "retrieval_id": resp.retrieval_id or resp.sha256,
        "status_code": resp.status_code,
        "bytes": len(resp.body),
    }
    storage.append_line(WEBAPI_MANIFEST, json.dumps(entry, ensure_ascii=False, sort_keys=True))
    get_logger().info(
        "stored BPS WebAPI response %s (%d bytes)%s",
        rel,
        len(resp.body),
        "" if written else " (same bytes already there)",
    )
    return entry


def fetch_and_store(
    client: BpsClient, storage: Storage, domain: str, var: int, years: list[int], **filters: object
) -> list[dict]:
    """``client.fetch_data`` then :func:`store_response` for every chunk; the manifest lines, in order."""
    return [
        store_response(storage, resp, var=var, domain=domain)
        for resp in client.fetch_data(domain, var, years, **filters)  # type: ignore[arg-type]
    ]


def read_manifest(storage: Storage) -> list[dict]:
    """Every line of both manifests, each with ``manifest`` = ``"webapi"`` or ``"snapshot"``."""
    out: list[dict] = []
    log = get_logger()
    for name, rel in MANIFESTS.items():
        if not storage.exists(rel):
            continue
        for n, line in enumerate(storage.read_text(rel).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                log.warning("%s line %d is not JSON; skipped", storage.url(rel), n)
                continue
            if isinstance(entry, dict):
                out.append(entry | {"manifest": name})
    return out


def newest_stored(
    storage: Storage, domain: str, var: int, *, kinds: tuple[str, ...] = DATA_KINDS
) -> list[dict]:
    """The manifest entries of the newest stored retrieval of a table (all its chunks), oldest chunk first.

    Entries are grouped by ``retrieval_id`` (a bundled entry without one is its own retrieval); the newest
    group by ``retrieved_at`` wins, and on a tie the WebAPI retrieval beats the bundled one. Empty when
    nothing is stored.
    """
    domain, var_text = str(domain), str(int(var))
    groups: dict[str, list[dict]] = {}
    for e in read_manifest(storage):
        if str(e.get("domain")) != domain or str(e.get("var")) != var_text or e.get("kind") not in kinds:
            continue
        gid = f"{e['manifest']}:{e.get('retrieval_id') or e.get('path')}"
        groups.setdefault(gid, []).append(e)
    if not groups:
        return []

    def rank(entries: list[dict]) -> tuple[datetime, int]:
        newest = max(_parse_time(e.get("retrieved_at")) for e in entries)
        return newest, 1 if entries[0]["manifest"] == "webapi" else 0

    best = max(groups.values(), key=rank)
    return sorted(best, key=lambda e: (_parse_time(e.get("retrieved_at")), str(e.get("th"))))


def read_stored_body(storage: Storage, entry: dict) -> dict:
    """The JSON body a manifest entry points at, after checking its sha256 (a changed raw file is an error)."""
    data = storage.read_bytes(entry["path"])
    digest = hashlib.sha256(data).hexdigest()
    if entry.get("sha256") and digest != entry["sha256"]:
        raise ValueError(
            f"{storage.url(entry['path'])} does not match its manifest sha256 ({digest[:12]} != "
            f"{str(entry['sha256'])[:12]}); raw files must not be edited — restore it or fetch the table again"
        )
    return json.loads(data)
