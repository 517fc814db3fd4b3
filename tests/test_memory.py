"""Freed memory goes back to the OS between stages (tasks/memory.py)."""

from __future__ import annotations

import sys

import numpy as np
import psutil
import pytest

from tasks.memory import return_free_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is Linux-only")
def test_freed_heap_pages_are_returned():
    proc = psutil.Process()
    arrays = [np.ones(8_000) for _ in range(3_000)]  # 64 KB each: below the mmap threshold, on the heap
    pin = np.ones(8_000)  # above them on the heap: freeing the others cannot just lower its top
    del arrays
    freed = proc.memory_info().rss
    return_free_memory()
    trimmed = proc.memory_info().rss
    assert freed - trimmed > 100 * 2**20  # most of the ~190 MB freed, which the heap had kept
    assert pin.sum() == 8_000
