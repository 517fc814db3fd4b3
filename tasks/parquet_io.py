"""Parquet writing and reading with explicit schemas, file metadata and atomic replacement."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tasks.storage import Storage


def frame_to_table(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """Convert a frame to exactly ``schema`` (column order, types, field metadata); extra columns are an error."""
    missing = [n for n in schema.names if n not in df.columns]
    extra = [c for c in df.columns if c not in schema.names]
    if missing or extra:
        raise ValueError(f"frame does not match schema: missing={missing} extra={extra}")
    table = pa.Table.from_pandas(df[schema.names], preserve_index=False)
    return table.cast(schema)


def _with_metadata(table: pa.Table, metadata: Mapping[str, object] | None) -> pa.Table:
    meta = dict(table.schema.metadata or {})
    for k, v in (metadata or {}).items():
        meta[k.encode()] = (v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)).encode()
    return table.replace_schema_metadata(meta)


def table_bytes(table: pa.Table, metadata: Mapping[str, object] | None = None) -> bytes:
    buf = io.BytesIO()
    pq.write_table(_with_metadata(table, metadata), buf, compression="zstd")
    return buf.getvalue()


def write_table(
    storage: Storage, rel: str, table: pa.Table, metadata: Mapping[str, object] | None = None
) -> str:
    """Write one Parquet file atomically. ``metadata`` (run id, sources) goes to the file metadata."""
    storage.write_bytes(rel, table_bytes(table, metadata))
    return storage.url(rel)


def write_partition(
    storage: Storage,
    dataset_rel: str,
    partition: str,
    table: pa.Table,
    metadata: Mapping[str, object] | None = None,
    filename: str = "part-0.parquet",
) -> str:
    """Replace one Hive partition (e.g. ``period=2025-08``) of a dataset directory atomically."""
    rel = f"{dataset_rel.rstrip('/')}/{partition}"

    def build(tmp: str) -> None:
        storage.write_bytes(f"{tmp}/{filename}", table_bytes(table, metadata))

    storage.replace_dir(rel, build)
    return storage.url(f"{rel}/{filename}")


def read_table(storage: Storage, rel: str) -> pa.Table:
    with storage.open(rel, "rb") as fh:
        return pq.read_table(fh)


def read_frame(storage: Storage, rel: str) -> pd.DataFrame:
    return read_table(storage, rel).to_pandas()


def file_metadata(storage: Storage, rel: str) -> dict[str, str]:
    with storage.open(rel, "rb") as fh:
        meta = pq.read_schema(fh).metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items() if not k.startswith(b"ARROW:") and k != b"pandas"}
