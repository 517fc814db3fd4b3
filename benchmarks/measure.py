"""Timing and memory helpers for the benchmark: wall time, peak RSS per block, peak RSS of a subprocess.

Peak RSS is sampled by a background thread (psutil, every 20 ms by default) because the process-wide
``ru_maxrss`` only ever grows: it cannot say which stage reached the peak. Sampling can miss a spike
shorter than the interval, so the process-wide ``ru_maxrss`` is recorded beside it as the upper bound.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

import psutil

MB = 1024 * 1024


def ru_maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size so far in MB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024


def _tree_rss(proc: psutil.Process, children: bool) -> int:
    total = 0
    procs = [proc] + (proc.children(recursive=True) if children else [])
    for p in procs:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class RssSampler:
    """Samples the RSS of a process (optionally with its children) until stopped; keeps the peak."""

    def __init__(self, pid: int | None = None, interval: float = 0.02, children: bool = False) -> None:
        self.proc = psutil.Process(pid or os.getpid())
        self.interval = interval
        self.children = children
        self.peak = 0
        self.start_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, _tree_rss(self.proc, self.children))
            except psutil.NoSuchProcess:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.start_rss = _tree_rss(self.proc, self.children)
        self.peak = self.start_rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self.peak = max(self.peak, _tree_rss(self.proc, self.children))
        except psutil.NoSuchProcess:
            pass


@dataclass
class Measurement:
    """One timed block: wall seconds, rows handled, peak RSS of the process during the block."""

    name: str
    seconds: float = 0.0
    # CPU seconds of this process (all threads): on a shared machine the steadier figure of the two
    cpu_seconds: float = 0.0
    rows: int | None = None
    peak_rss_mb: float = 0.0
    start_rss_mb: float = 0.0
    status: str = "ok"  # ok | skipped | failed
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float | None:
        if not self.rows or self.seconds <= 0:
            return None
        return self.rows / self.seconds

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rows_per_second"] = self.rows_per_second
        return d


@contextmanager
def measure(name: str, rows: int | None = None, interval: float = 0.02) -> Iterator[Measurement]:
    """Time a block and sample this process's RSS during it; set ``m.rows`` inside if known only later."""
    m = Measurement(name=name, rows=rows)
    with RssSampler(interval=interval) as sampler:
        t0 = time.perf_counter()
        c0 = time.process_time()
        try:
            yield m
        except BaseException as exc:
            m.status = "failed"
            m.note = f"{type(exc).__name__}: {exc}"[:500]
            raise
        finally:
            m.seconds = time.perf_counter() - t0
            m.cpu_seconds = time.process_time() - c0
    m.peak_rss_mb = sampler.peak / MB
    m.start_rss_mb = sampler.start_rss / MB


@dataclass
class ProcessResult:
    returncode: int
    seconds: float
    cpu_seconds: float  # user + system of the process and the children it waited for
    peak_rss_mb: float  # sampled over the process tree (the process and its children)
    stdout: str
    stderr: str


def run_measured(
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float | None = None,
    interval: float = 0.1,  # walking the process tree costs the parent CPU the child would use
) -> ProcessResult:
    """Run a command, timing it and sampling the peak RSS of its process tree."""
    t0 = time.perf_counter()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        list(cmd),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with RssSampler(pid=proc.pid, interval=interval, children=True) as sampler:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += f"\n[benchmark] killed after {timeout} s"
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return ProcessResult(proc.returncode, time.perf_counter() - t0, cpu, sampler.peak / MB, out, err)


PACKAGES = ("prefect", "great-expectations", "pandas", "pyarrow", "numpy", "duckdb", "jinja2", "openpyxl")


def machine_info() -> dict[str, Any]:
    """What the figures were measured on: cores, memory, CPU, Python and package versions."""
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "logical_cores": psutil.cpu_count(logical=True),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "cpu": cpu,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": versions,
    }
