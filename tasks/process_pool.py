"""Batches of CPU-bound work on the machine's cores: plain ``python -c`` worker processes fed by pipes.

Used where a period has tens of thousands of per-company files to render (receipts, company reports):
one Python process renders ~1,500 a second, so a national month needs both cores. Not
``multiprocessing``: it re-runs the caller's main script in every worker when that lacks a
``__main__`` guard (Prefect flows, ``python -c``), and forking a process with Prefect's threads risks
deadlocks. Workers import the target function by name; every result comes back in batch order, so the
output equals the serial output. If a worker cannot start or dies, its batches run in-process.
"""

from __future__ import annotations

import importlib
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

PROJECT_ROOT = str(Path(__file__).resolve().parents[1])
MAX_WORKERS = 2  # the target machine has 2 cores; more processes only add memory


def send(fh: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(struct.pack("<Q", len(data)))
    fh.write(data)
    fh.flush()


def recv(fh: IO[bytes]) -> Any:
    head = fh.read(8)
    if len(head) < 8:
        return None
    (n,) = struct.unpack("<Q", head)
    data = fh.read(n)
    if len(data) < n:
        return None
    # Only our own worker processes are on the other end of these pipes.
    return pickle.loads(data)  # noqa: S301


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    return max(1, min(usable_cores(), MAX_WORKERS))


def resolve(target: str) -> Callable[[Any, Any], Any]:
    """``"package.module:function"`` -> the function."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def worker_main() -> None:
    """A worker: ``(target, shared)`` first, then batches until stdin closes; one result per batch."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the result stream
    first = recv(inp)
    if first is None:
        return
    target, shared = first
    fn = resolve(target)
    while (batch := recv(inp)) is not None:
        send(out, fn(shared, batch))


def _feed(proc: subprocess.Popen, first: object, batches: Sequence[Any], which: range) -> None:
    try:
        send(proc.stdin, first)  # type: ignore[arg-type]
        for i in which:
            send(proc.stdin, batches[i])  # type: ignore[arg-type]
        proc.stdin.close()  # type: ignore[union-attr]
    except (OSError, ValueError):  # the worker died; its batches are redone in-process
        pass


def _start(n: int) -> list[subprocess.Popen]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PROJECT_ROOT, *filter(None, [env.get("PYTHONPATH")])])
    procs: list[subprocess.Popen] = []
    try:
        for _ in range(n):
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-W",
                        "ignore",
                        "-c",
                        "from tasks.process_pool import worker_main; worker_main()",
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=env,
                    cwd=PROJECT_ROOT,
                )
            )
    except OSError:  # no worker processes here: the caller runs everything in-process
        _stop(procs)
        return []
    return procs


def _stop(procs: list[subprocess.Popen], kill: bool = False) -> None:
    """Close the pipes and wait; ``kill`` first when the caller stopped early (a worker may be blocked
    writing a result nobody reads, and its feeder writing a batch the worker does not read)."""
    for p in procs:
        if kill and p.poll() is None:
            p.kill()
        for fh in (p.stdin, p.stdout):
            try:
                if fh is not None:
                    fh.close()
            except OSError:
                pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def map_batches(target: str, shared: Any, batches: Sequence[Any], workers: int) -> Iterator[Any]:
    """``resolve(target)(shared, batch)`` for every batch, in order; on ``workers`` processes when > 1.

    ``target`` must be importable by name (``"tasks.receipts:render_batch"``), return something other
    than None (None is how a dead worker reads), and ``shared`` and the batches must pickle. Batch i
    goes to worker i mod n. ``batches`` may build each batch on access (``LazyBatches``): a feeding
    thread holds one batch at a time, so the whole input never sits in memory as batches.
    """
    procs = _start(workers) if workers > 1 and len(batches) > 1 else []
    if not procs:
        fn = resolve(target)
        for b in batches:
            yield fn(shared, b)
        return
    feeders = [
        threading.Thread(
            target=_feed, args=(p, (target, shared), batches, range(i, len(batches), len(procs))), daemon=True
        )
        for i, p in enumerate(procs)
    ]
    for t in feeders:
        t.start()
    fn: Callable[[Any, Any], Any] | None = None
    dead: set[int] = set()
    finished = False
    try:
        for i, batch in enumerate(batches):
            w = i % len(procs)
            result = None if w in dead else recv(procs[w].stdout)  # type: ignore[arg-type]
            if result is None:
                # The worker died (or was never fed): this and its later batches run here.
                dead.add(w)
                fn = fn or resolve(target)
                result = fn(shared, batch)
            yield result
        finished = True
    finally:
        _stop(procs, kill=not finished)
        for t in feeders:
            t.join(timeout=5)


class LazyBatches(Sequence[Any]):
    """``n`` batches, each built by ``make(i)`` when it is taken (and built again if taken again)."""

    def __init__(self, n: int, make: Callable[[int], Any]) -> None:
        self.n, self.make = n, make

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Any:  # type: ignore[override]
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.make(i)
