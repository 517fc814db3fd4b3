"""A batch function whose module notes each process that imports it (for the prestart test)."""

from __future__ import annotations

import os

_MARK = os.environ.get("PRODUKTIVITAS_TEST_PRELOAD_MARK")
if _MARK:
    with open(_MARK, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")


def double(shared: int, batch: list[int]) -> list[int]:
    return [shared * x for x in batch]
