"""Raw BPS responses: stored unchanged, never overwritten, one complete manifest line each; newest retrieval."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tasks.bps_client import BpsClient, RawResponse
from tasks.bps_decode import decode_data_response
from tasks.bps_raw import (
    SNAPSHOT_MANIFEST,
    WEBAPI_MANIFEST,
    fetch_and_store,
    newest_stored,
    read_manifest,
    read_stored_body,
    store_response,
)
from tasks.secrets import Secret
from tasks.storage import Storage
from tests.bps_server import TEST_KEY, bps_server  # noqa: F401  (fixture)

REQUIRED = {"path", "url", "retrieved_at", "sha256", "var", "domain", "th", "last_update", "source", "kind"}


def _resp(body: bytes, fetched_at: str = "2026-11-27T10:15:30.123456Z", th: str = "123") -> RawResponse:
    return RawResponse(
        url=f"http://x/v1/api/list/model/data/lang/ind/domain/0000/var/7/th/{th}/key/***/",
        params={"model": "data", "domain": "0000", "var": "7", "th": th},
        fetched_at=fetched_at,
        status_code=200,
        body=body,
        sha256=hashlib.sha256(body).hexdigest(),
        retrieval_id="r1",
    )


@pytest.fixture
def client(bps_server):  # noqa: F811
    c = BpsClient(bps_server.base_url, Secret(TEST_KEY), timeout=5, backoff=0.01, sleep=lambda s: None)
    yield c
    c.close()


def test_store_response_keeps_bytes_and_writes_a_complete_manifest_line(tmp_path: Path):
    storage = Storage(tmp_path / "data")
    body = b'{"status":"OK","last_update":"2024-07-22 03:33:13",  "datacontent":{}}'
    entry = store_response(storage, _resp(body), var=7, domain="0000")
    assert (
        entry["path"]
        == f"raw/bps/webapi/domain0000/var7/20261127T101530Z-{hashlib.sha256(body).hexdigest()[:12]}.json"
    )
    assert storage.read_bytes(entry["path"]) == body
    lines = storage.read_text(WEBAPI_MANIFEST).splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert REQUIRED <= set(line)
    assert line["kind"] == "webapi" and line["source"] == "BPS WebAPI"
    assert line["var"] == 7 and line["domain"] == "0000" and line["th"] == "123"
    assert line["last_update"] == "2024-07-22 03:33:13" and line["retrieval_id"] == "r1"
    assert line["url"].endswith("/key/***/") and line["retrieved_at"] == "2026-11-27T10:15:30.123456Z"


def test_last_update_absent_is_null_and_same_bytes_are_not_rewritten(tmp_path: Path):
    storage = Storage(tmp_path / "data")
    body = b'{"status":"OK"}'
    first = store_response(storage, _resp(body), var=7, domain="0000")
    target = storage.local_path(first["path"])
    before = target.stat().st_mtime_ns
    store_response(storage, _resp(body), var=7, domain="0000")
    assert target.stat().st_mtime_ns == before
    lines = [json.loads(x) for x in storage.read_text(WEBAPI_MANIFEST).splitlines()]
    assert len(lines) == 2 and lines[0]["last_update"] is None


def test_never_overwrites_a_different_file(tmp_path: Path):
    storage = Storage(tmp_path / "data")
    body = b'{"status":"OK"}'
    resp = _resp(body)
    rel = f"raw/bps/webapi/domain0000/var7/20261127T101530Z-{resp.sha256[:12]}.json"
    storage.write_bytes(rel, b"something else")
    with pytest.raises(FileExistsError):
        store_response(storage, resp, var=7, domain="0000")
    assert storage.read_bytes(rel) == b"something else"
    assert not storage.exists(WEBAPI_MANIFEST)


def test_fetch_and_store_chunks_share_a_retrieval_and_never_hold_the_key(client, data_root: Path):
    storage = Storage(data_root)
    entries = fetch_and_store(client, storage, "0000", 533, [2019, 2020, 2021, 2022])
    assert [e["th"] for e in entries] == ["119:121", "122"]
    assert len({e["retrieval_id"] for e in entries}) == 1
    for e in entries:
        assert REQUIRED <= set(e)
        assert storage.exists(e["path"])
    for path in (data_root / "raw").rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes(), path


def test_newest_stored_prefers_the_newest_retrieval(client, data_root: Path):
    storage = Storage(data_root)
    bundled = newest_stored(storage, "0000", 533)
    assert [e["kind"] for e in bundled] == ["bundled-webapi"] and bundled[0]["manifest"] == "snapshot"
    assert len(decode_data_response(read_stored_body(storage, bundled[0])).unmatched_keys) == 980

    first = fetch_and_store(client, storage, "0000", 533, [2022, 2023])
    newest = newest_stored(storage, "0000", 533)
    assert [e["path"] for e in newest] == [e["path"] for e in first]
    second = fetch_and_store(client, storage, "0000", 533, [2018, 2019, 2020, 2021])
    newest = newest_stored(storage, "0000", 533)
    assert [e["path"] for e in newest] == [e["path"] for e in second] and len(newest) == 2
    years = {y for e in newest for y in decode_data_response(read_stored_body(storage, e)).cells["year"]}
    assert years == {2018, 2019, 2020, 2021}

    assert newest_stored(storage, "6400", 533) == []
    manifests = {e["manifest"] for e in read_manifest(storage)}
    assert manifests == {"webapi", "snapshot"}
    assert storage.exists(SNAPSHOT_MANIFEST)


def test_bundled_entry_newer_than_webapi_wins(tmp_path: Path):
    storage = Storage(tmp_path / "data")
    store_response(
        storage, _resp(b'{"status":"OK"}', fetched_at="2024-01-01T00:00:00Z"), var=7, domain="0000"
    )
    storage.append_line(
        SNAPSHOT_MANIFEST,
        json.dumps(
            {
                "path": "raw/bps/snapshot/webapi/x.json",
                "var": 7,
                "domain": "0000",
                "kind": "bundled-webapi",
                "retrieved_at": "2025-01-01T00:00:00Z",
                "sha256": None,
            }
        ),
    )
    storage.append_line(SNAPSHOT_MANIFEST, "not json")
    newest = newest_stored(storage, "0000", 7)
    assert [e["manifest"] for e in newest] == ["snapshot"]


def test_edited_raw_file_is_detected(tmp_path: Path):
    storage = Storage(tmp_path / "data")
    entry = store_response(storage, _resp(b'{"status":"OK"}'), var=7, domain="0000")
    storage.local_path(entry["path"]).write_bytes(b'{"status":"OK","edited":1}')
    with pytest.raises(ValueError, match="sha256"):
        read_stored_body(storage, entry)
