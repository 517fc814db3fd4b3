"""One definition per field: name, type, unit, labels and rules.

Readers, Great Expectations suites, pyarrow schemas, template headers and the data dictionary
are all derived from :class:`Field` objects, so a field is described in exactly one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

SCHEMA_VERSION_KEY = b"schema_version"
SCHEMA_NAME_KEY = b"schema_name"

_PA_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "int16": pa.int16(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class Field:
    """A column of an input or output table.

    ``unit`` and ``description`` travel into the Parquet field metadata; ``label_id`` is what an
    official or a company reads (Bahasa Indonesia), ``label_en`` the English option.
    """

    name: str
    dtype: str
    description: str
    unit: str = ""
    label_id: str = ""
    label_en: str = ""
    required: bool = False
    nullable: bool = True
    min_value: float | None = None
    max_value: float | None = None
    allowed: tuple[str, ...] | None = None
    regex: str | None = None
    rule_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.dtype not in _PA_TYPES:
            raise ValueError(
                f"field {self.name}: unknown dtype {self.dtype!r}; use one of {sorted(_PA_TYPES)}"
            )

    @property
    def pa_type(self) -> pa.DataType:
        return _PA_TYPES[self.dtype]

    def pa_field(self) -> pa.Field:
        meta = {"description": self.description, "unit": self.unit or "-"}
        if self.label_id:
            meta["label_id"] = self.label_id
        if self.label_en:
            meta["label_en"] = self.label_en
        meta.update(self.extra)
        return pa.field(self.name, self.pa_type, nullable=self.nullable, metadata=meta)


def pa_schema(fields: Iterable[Field], name: str, version: str, description: str = "") -> pa.Schema:
    """A pyarrow schema with units/descriptions per field and the schema name/version in its metadata."""
    fs = list(fields)
    names = [f.name for f in fs]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"schema {name}: duplicate fields {sorted(dupes)}")
    meta = {SCHEMA_NAME_KEY: name.encode(), SCHEMA_VERSION_KEY: version.encode()}
    if description:
        meta[b"description"] = description.encode()
    return pa.schema([f.pa_field() for f in fs], metadata=meta)


def by_name(fields: Sequence[Field]) -> dict[str, Field]:
    return {f.name: f for f in fields}
