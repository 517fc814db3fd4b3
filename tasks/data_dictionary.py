"""The data dictionary (docs/data-dictionary.md), generated from the pyarrow schemas in ``schemas/``.

Every module-level ``pyarrow.Schema`` (or argument-free ``*_schema()`` builder) in the modules below is listed with its fields, types, units and
descriptions (from the field metadata). Modules that do not exist yet are skipped. Regenerate with
``python -m tasks.data_dictionary``; a test fails when the committed file is out of date.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import pyarrow as pa

SCHEMA_MODULES: tuple[str, ...] = (
    "schemas.indicators",
    "schemas.submission_outputs",
    "schemas.company",
    "schemas.documents",
)
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.md"


def _meta(m: dict[bytes, bytes] | None, key: str) -> str:
    return (m or {}).get(key.encode(), b"").decode()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def collect_schemas(modules: tuple[str, ...] = SCHEMA_MODULES) -> list[tuple[str, str, pa.Schema]]:
    """(module, attribute, schema) for every pyarrow schema found, in module then attribute order."""
    found: list[tuple[str, str, pa.Schema]] = []
    for name in modules:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        for attr in sorted(vars(mod)):
            obj = getattr(mod, attr)
            if attr.startswith("_"):
                continue
            if isinstance(obj, pa.Schema):
                found.append((name, attr, obj))
            elif attr.endswith("_schema") and inspect.isfunction(obj) and obj.__module__ == name:
                # schema builders without arguments (e.g. ``accepted_schema()``) count as schemas too
                params = inspect.signature(obj).parameters.values()
                if all(p.default is not inspect.Parameter.empty for p in params):
                    built = obj()
                    if isinstance(built, pa.Schema):
                        found.append((name, f"{attr}()", built))
    return found


def render_data_dictionary(modules: tuple[str, ...] = SCHEMA_MODULES) -> str:
    lines = [
        "# Data dictionary",
        "",
        "Generated from the pyarrow schemas in `schemas/` by `python -m tasks.data_dictionary`; do not edit by hand.",
        "Units and descriptions are also in each Parquet file's field metadata; `schema_name` and",
        "`schema_version` are in the file metadata.",
        "",
    ]
    for module, attr, schema in collect_schemas(modules):
        name = _meta(schema.metadata, "schema_name") or attr
        version = _meta(schema.metadata, "schema_version")
        lines += [
            f"## `{name}`",
            "",
            f"`{module}.{attr}`" + (f", version {version}" if version else "") + "",
            "",
        ]
        desc = _meta(schema.metadata, "description")
        if desc:
            lines += [_cell(desc), ""]
        lines += ["| field | type | unit | nullable | description |", "|---|---|---|---|---|"]
        for f in schema:
            unit = _meta(f.metadata, "unit")
            lines.append(
                f"| `{f.name}` | {f.type} | {_cell(unit if unit and unit != '-' else '')} | "
                f"{'yes' if f.nullable else 'no'} | {_cell(_meta(f.metadata, 'description'))} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_data_dictionary(path: str | Path = DEFAULT_PATH) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_data_dictionary(), encoding="utf-8")
    return p


if __name__ == "__main__":
    print(write_data_dictionary(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PATH))
