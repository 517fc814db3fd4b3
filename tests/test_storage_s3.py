"""Every Storage method and tasks.parquet_io on an s3:// root served by moto on 127.0.0.1."""

from __future__ import annotations

import fsspec
import pandas as pd
import pyarrow as pa
import pytest

from tasks.parquet_io import (
    file_metadata,
    frame_to_table,
    read_frame,
    read_table,
    write_partition,
    write_table,
)
from tasks.storage import Storage
from tests import s3_server as s3_fixtures

# fixtures shared through tests/s3_server.py (pytest finds them as module attributes)
s3_server = s3_fixtures.s3_server
s3_root = s3_fixtures.s3_root

SCHEMA = pa.schema(
    [
        pa.field("kabkota_code", pa.string(), metadata={b"description": b"BPS code"}),
        pa.field("value_million_idr", pa.float64(), metadata={b"unit": b"million IDR"}),
    ],
    metadata={b"schema_name": b"s3_test", b"schema_version": b"1"},
)


def fresh(root: str) -> Storage:
    """A Storage with its own filesystem instance, so nothing comes from s3fs' listing cache."""
    return Storage(root, storage_options={"skip_instance_cache": True})


def test_root_is_s3_and_not_local(s3_root):
    st = Storage(s3_root)
    assert not st.is_local
    assert st.root == s3_root
    assert st.url("processed/x.json") == s3_root + "/processed/x.json"
    assert st.path("processed/x.json").endswith("/data/processed/x.json")
    assert not st.path("").endswith("/")
    with pytest.raises(RuntimeError):
        st.local_path("raw")
    with pytest.raises(ValueError):
        st.path("../escape")


def test_read_write_bytes_text_and_size(s3_root):
    st = Storage(s3_root)
    st.write_bytes("raw/a.bin", b"\x00\x01abc")
    st.write_text("processed/notes/b.txt", "Produktivitas Tenaga Kerja — Agustus 2025")
    other = fresh(s3_root)
    assert other.read_bytes("raw/a.bin") == b"\x00\x01abc"
    assert other.read_text("processed/notes/b.txt") == "Produktivitas Tenaga Kerja — Agustus 2025"
    assert other.size("raw/a.bin") == 5
    assert other.exists("raw/a.bin") and not other.exists("raw/missing.bin")
    assert other.isdir("processed/notes") and not other.isdir("raw/a.bin")
    with other.open("raw/a.bin", "rb") as fh:
        assert fh.read(2) == b"\x00\x01"
    with st.open("processed/c.txt", "wb") as fh:
        fh.write(b"via open")
    assert fresh(s3_root).read_text("processed/c.txt") == "via open"


def test_overwrite_replaces_and_write_new_never_overwrites(s3_root):
    st = Storage(s3_root)
    st.write_text("processed/x.txt", "one")
    st.write_text("processed/x.txt", "two")
    assert fresh(s3_root).read_text("processed/x.txt") == "two"
    assert st.write_new("raw/landing.json", b"first") is True
    assert st.write_new("raw/landing.json", b"second") is False
    assert fresh(s3_root).read_bytes("raw/landing.json") == b"first"


def test_listdir_walk_files_makedirs_delete(s3_root):
    st = Storage(s3_root)
    for rel in (
        "raw/submissions/2025-08/a.csv",
        "raw/submissions/2025-08/b.xlsx",
        "raw/submissions/2025-09/c.csv",
    ):
        st.write_bytes(rel, b"x")
    assert st.listdir("raw/submissions") == ["2025-08", "2025-09"]
    assert st.listdir("raw/nothing-here") == []
    assert st.walk_files("raw/submissions", "*.csv") == [
        "raw/submissions/2025-08/a.csv",
        "raw/submissions/2025-09/c.csv",
    ]
    assert st.walk_files("raw/nothing-here") == []
    st.makedirs("processed/empty")  # a no-op on object storage; must not fail
    st.delete("raw/submissions/2025-08")
    assert fresh(s3_root).walk_files("raw/submissions") == ["raw/submissions/2025-09/c.csv"]
    st.delete("raw/does-not-exist")


def test_append_line_keeps_earlier_lines(s3_root):
    st = Storage(s3_root)
    st.append_line("processed/outbox/ledger.csv", "a,1")
    st.append_line("processed/outbox/ledger.csv", "b,2\n")
    assert fresh(s3_root).read_text("processed/outbox/ledger.csv") == "a,1\nb,2\n"


def test_replace_dir_swaps_exactly_and_leaves_no_temp(s3_root):
    st = Storage(s3_root)

    def first(tmp: str) -> None:
        st.write_text(f"{tmp}/part-0.parquet", "old0")
        st.write_text(f"{tmp}/part-1.parquet", "old1")

    def second(tmp: str) -> None:
        st.write_text(f"{tmp}/part-0.parquet", "new0")

    st.replace_dir("processed/ds/period=2025-08", first)
    st.replace_dir("processed/ds/period=2025-08", second)
    after = fresh(s3_root)
    assert after.walk_files("processed/ds") == ["processed/ds/period=2025-08/part-0.parquet"]
    assert after.read_text("processed/ds/period=2025-08/part-0.parquet") == "new0"
    assert not [n for n in after.listdir("processed/ds") if n.startswith(".")]


def test_replace_dir_failure_keeps_old_partition(s3_root):
    st = Storage(s3_root)
    st.replace_dir("processed/ds/period=2025-08", lambda tmp: st.write_text(f"{tmp}/part-0.parquet", "old"))

    def broken(tmp: str) -> None:
        st.write_text(f"{tmp}/part-0.parquet", "half")
        raise RuntimeError("crash while building")

    with pytest.raises(RuntimeError):
        st.replace_dir("processed/ds/period=2025-08", broken)
    after = fresh(s3_root)
    assert after.read_text("processed/ds/period=2025-08/part-0.parquet") == "old"
    assert after.walk_files("processed/ds") == ["processed/ds/period=2025-08/part-0.parquet"]


def test_local_copy_gives_a_real_file(s3_root):
    st = Storage(s3_root)
    st.write_bytes("raw/submissions/2025-08/f.xlsx", b"PK\x03\x04zip")
    with st.local_copy("raw/submissions/2025-08/f.xlsx") as p:
        assert p.exists() and p.read_bytes() == b"PK\x03\x04zip"
    assert not p.exists()


def test_parquet_io_round_trip_on_s3(s3_root):
    st = Storage(s3_root)
    df = pd.DataFrame({"kabkota_code": ["6471", "6472"], "value_million_idr": [289.7, 150.25]})
    table = frame_to_table(df, SCHEMA)
    url = write_table(st, "processed/indicators/x.parquet", table, {"run_id": "r1", "sources": ["a"]})
    assert url == s3_root + "/processed/indicators/x.parquet"
    url2 = write_partition(st, "processed/indicators/company", "period=2025-08", table, {"run_id": "r2"})
    assert url2.endswith("/company/period=2025-08/part-0.parquet")
    other = fresh(s3_root)
    back = read_frame(other, "processed/indicators/x.parquet")
    assert back["kabkota_code"].tolist() == ["6471", "6472"]
    assert back["value_million_idr"].tolist() == [289.7, 150.25]
    t = read_table(other, "processed/indicators/company/period=2025-08/part-0.parquet")
    assert t.schema.field("value_million_idr").metadata[b"unit"] == b"million IDR"
    meta = file_metadata(other, "processed/indicators/company/period=2025-08/part-0.parquet")
    assert meta["run_id"] == "r2" and meta["schema_name"] == "s3_test"
    assert file_metadata(other, "processed/indicators/x.parquet")["sources"] == '["a"]'


def test_hive_dataset_readable_by_pyarrow_from_s3(s3_root):
    """Statisticians read the partitioned dataset straight from the bucket."""
    import pyarrow.dataset as ds

    st = Storage(s3_root)
    for period, code in (("2025-07", "6471"), ("2025-08", "6472")):
        df = pd.DataFrame({"kabkota_code": [code], "value_million_idr": [1.0]})
        write_partition(st, "processed/indicators/company", f"period={period}", frame_to_table(df, SCHEMA))
    fs, path = fsspec.core.url_to_fs(s3_root + "/processed/indicators/company")
    table = ds.dataset(path, filesystem=fs, format="parquet", partitioning="hive").to_table()
    got = sorted(zip(table["period"].to_pylist(), table["kabkota_code"].to_pylist(), strict=True))
    assert got == [("2025-07", "6471"), ("2025-08", "6472")]
