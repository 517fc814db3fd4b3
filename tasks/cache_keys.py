"""Content digests for caching deterministic work (BPS table chain, the GX runs over submissions).

A cached result may only be reused when everything it was computed from is the same: the bytes of
the inputs, the code that computed it (our modules and the code lists in ``schemas/``) and the
versions of the libraries doing the work. These helpers turn each of those into a sha256 hex
digest that a Prefect cache policy hashes together with the task's other inputs; change one byte
of an input, of our code or a library version and the key changes, so nothing stale is served.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from tasks.storage import Storage

MISSING = "missing"


def files_digest(storage: Storage, rels: Iterable[str]) -> str:
    """sha256 over (path, sha256 of the bytes) of each file; a missing file counts as ``missing``
    (the work then fails on it as before and a failure is never cached)."""
    h = hashlib.sha256()
    for rel in rels:
        digest = hashlib.sha256(storage.read_bytes(rel)).hexdigest() if storage.exists(rel) else MISSING
        h.update(f"{rel}\0{digest}\n".encode())
    return h.hexdigest()


def _module_file(name: str) -> Path:
    mod = sys.modules.get(name)
    origin = getattr(mod, "__file__", None) if mod else None
    if origin is None:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
    if not origin:
        raise ValueError(f"no source file for module {name!r}")
    return Path(origin)


def code_digest(
    modules: Iterable[str], packages: Iterable[str] = (), distributions: Iterable[str] = ()
) -> str:
    """sha256 over the source of ``modules``, every file under the folders of ``packages`` (code and
    code-list data) and the installed versions of ``distributions``."""
    h = hashlib.sha256()
    files = [_module_file(m) for m in modules]
    for pkg in packages:
        folder = _module_file(pkg).parent
        files += sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for f in files:
        h.update(f"{f.name}\0".encode() + hashlib.sha256(f.read_bytes()).digest())
    for dist in distributions:
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = MISSING
        h.update(f"{dist}=={version}\n".encode())
    return h.hexdigest()


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a frame's column names, dtypes, index and values (row order matters)."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    h.update(str(len(frame)).encode())
    if len(frame.columns):
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    else:
        h.update(pd.util.hash_pandas_object(frame.index).to_numpy().tobytes())
    return h.hexdigest()
