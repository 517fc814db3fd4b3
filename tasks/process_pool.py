"""Batches of CPU-bound work on the machine's cores: plain ``python -c`` worker processes fed by pipes.

Used where a period has tens of thousands of per-company files to render (receipts, company reports):
one Python process renders ~1,500 a second, so a national month needs both cores. Not
``multiprocessing``: it re-runs the caller's main script in every worker when that lacks a
``__main__`` guard (Prefect flows, ``python -c``), and forking a process with Prefect's threads risks
deadlocks. Workers import the target function by name; every result comes back in batch order, so the
output equals the serial output. If a worker cannot start or dies, its batches run in-process.

Inside ``keep_workers()`` the workers outlive one ``map_batches``, and ``prestart`` starts them early
and has them import the function's module: a stage that prepares its batches first (probing files,
building contexts) lets the workers' ~1 s of Python start and imports run meanwhile on the other
core. Each stage keeps its own workers only while it runs: a worker that read a national month holds
~200 MB that rendering does not need.
"""

from __future__ import annotations

import atexit
import importlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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
    """A worker: until stdin closes, a job ``(_JOB, target, shared)`` sets the function, and each
    ``(_BATCH, batch)`` that follows gets one result; ``(_LOAD, target)`` only imports the function's
    module (sent by ``prestart``), so the job that follows finds it loaded."""
    inp = sys.stdin.buffer
    # Nothing else may write into the result stream, not even C code or a child writing to fd 1:
    # results go to a private copy of the pipe and fd 1 becomes stderr.
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    fn: Callable[[Any, Any], Any] | None = None
    shared: Any = None
    while (msg := recv(inp)) is not None:
        if msg[0] == _JOB:  # a new job: every later batch until the next job is for this function
            fn, shared = resolve(msg[1]), msg[2]
        elif msg[0] == _LOAD:
            resolve(msg[1])
        else:
            send(out, fn(shared, msg[1]))  # type: ignore[misc]


_JOB, _BATCH, _LOAD = 0, 1, 2


def _feed(proc: subprocess.Popen, first: object, batches: Sequence[Any], which: range, close: bool) -> None:
    try:
        send(proc.stdin, first)  # type: ignore[arg-type]
        for i in which:
            send(proc.stdin, (_BATCH, batches[i]))  # type: ignore[arg-type]
        if close:
            proc.stdin.close()  # type: ignore[union-attr]
    except (OSError, ValueError):  # the worker died; its batches are redone in-process
        pass


def _start(n: int) -> list[subprocess.Popen]:
    _reap(block=False)
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


_EXITING: list[subprocess.Popen] = []  # told to stop, reaped later (``_reap``)
_EXITING_LOCK = threading.Lock()


def _stop(procs: list[subprocess.Popen], kill: bool = False) -> None:
    """Close the pipes; ``kill`` first when the caller stopped early (a worker may be blocked writing a
    result nobody reads, and its feeder writing a batch the worker does not read).

    A killed worker is waited for; one that was only told to stop (stdin closed) exits on its own
    while this process goes on: tearing down an interpreter with pandas loaded takes ~0.3 s each,
    three times a national month. It is reaped by ``_reap`` (next start, or at exit).
    """
    for p in procs:
        if kill and p.poll() is None:
            p.kill()
        for fh in (p.stdin, p.stdout):
            try:
                if fh is not None:
                    fh.close()
            except OSError:
                pass
        if kill:
            _wait(p)
        else:
            with _EXITING_LOCK:
                _EXITING.append(p)


def _wait(p: subprocess.Popen) -> None:
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


@atexit.register
def _reap(block: bool = True) -> None:
    """Wait for the workers told to stop (``block=False``: only forget those already gone)."""
    with _EXITING_LOCK:
        procs, _EXITING[:] = list(_EXITING), []
    for p in procs:
        if block:
            _wait(p)
        elif p.poll() is None:
            with _EXITING_LOCK:
                _EXITING.append(p)


RESULTS_AHEAD = 2  # results held per worker before it has to wait: bounds memory to a few batches


def _receive(proc: subprocess.Popen, n: int, out: queue.Queue, stop: threading.Event) -> None:
    """Read a worker's ``n`` results into ``out`` (None once it died); give up when ``stop`` is set."""
    for _ in range(n):
        try:
            result = recv(proc.stdout)  # type: ignore[arg-type]
        except (OSError, ValueError, EOFError, pickle.UnpicklingError):
            result = None
        while not stop.is_set():
            try:
                out.put(result, timeout=0.1)
                break
            except queue.Full:
                continue
        if result is None or stop.is_set():
            return


def map_batches(
    target: str, shared: Any, batches: Sequence[Any], workers: int, ahead: int = RESULTS_AHEAD
) -> Iterator[Any]:
    """``resolve(target)(shared, batch)`` for every batch, in order; on ``workers`` processes when > 1.

    ``target`` must be importable by name (``"tasks.receipts:render_batch"``), return something other
    than None (None is how a dead worker reads), and ``shared`` and the batches must pickle. Batch i
    goes to worker i mod n. ``batches`` may build each batch on access (``LazyBatches``): a feeding
    thread holds one batch at a time, so the whole input never sits in memory as batches. Up to
    ``ahead`` results per worker wait for the caller before that worker has to stop and wait too.
    """
    procs = _acquire(workers) if workers > 1 and len(batches) > 1 else []
    if not procs:
        fn = resolve(target)
        for b in batches:
            yield fn(shared, b)
        return
    keep = _SESSION.depth > 0
    feeders = [
        threading.Thread(
            target=_feed,
            args=(p, (_JOB, target, shared), batches, range(i, len(batches), len(procs)), not keep),
            daemon=True,
        )
        for i, p in enumerate(procs)
    ]
    # Results are drained as they come (at most ``ahead`` waiting per worker): a worker whose result
    # waits for this process, busy with the previous one, goes on with its next batch.
    stop = threading.Event()
    results = [queue.Queue(maxsize=max(1, ahead)) for _ in procs]
    receivers = [
        threading.Thread(
            target=_receive, args=(p, len(range(i, len(batches), len(procs))), results[i], stop), daemon=True
        )
        for i, p in enumerate(procs)
    ]
    for t in feeders + receivers:
        t.start()
    fn: Callable[[Any, Any], Any] | None = None
    dead: set[int] = set()
    finished = False
    try:
        for i, batch in enumerate(batches):
            w = i % len(procs)
            result = None if w in dead else results[w].get()
            if result is None:
                # The worker died (or was never fed): this and its later batches run here.
                dead.add(w)
                fn = fn or resolve(target)
                result = fn(shared, batch)
            yield result
        finished = True
    finally:
        stop.set()
        if finished and keep:
            for t in feeders:
                t.join()  # every result was read, so every batch was sent
            # each live worker now waits for its next job
            _release([p for w, p in enumerate(procs) if w not in dead and p.poll() is None])
            _stop([p for w, p in enumerate(procs) if w in dead or p.poll() is not None])
        else:
            _stop(procs, kill=not finished)
            for t in feeders:
                t.join(timeout=5)


class _Session:
    """Workers kept between ``map_batches`` calls while ``keep_workers()`` is open."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.idle: list[subprocess.Popen] = []


_SESSION = _Session()


def _acquire(n: int) -> list[subprocess.Popen]:
    """``n`` workers: idle ones of the session first (still alive), new ones for the rest."""
    with _SESSION.lock:
        live = [p for p in _SESSION.idle if p.poll() is None]
        _stop([p for p in _SESSION.idle if p.poll() is not None])
        taken, _SESSION.idle = live[:n], live[n:]
    if len(taken) < n:
        taken += _start(n - len(taken))
    return taken


def _release(procs: list[subprocess.Popen]) -> None:
    with _SESSION.lock:
        if _SESSION.depth > 0:
            _SESSION.idle.extend(procs)
            return
    _stop(procs)


def prestart(n: int, target: str | None = None) -> None:
    """Start up to ``n`` idle workers now, inside ``keep_workers()`` only (outside it, a no-op); with
    ``target``, each idle worker also imports its module now.

    A caller that will soon need workers calls this first: their start and imports (~1 s: pandas,
    pyarrow, jinja2) then overlap whatever it does before ``map_batches``, instead of delaying its
    first results.
    """
    with _SESSION.lock:
        if _SESSION.depth == 0:
            return
        missing = n - sum(1 for p in _SESSION.idle if p.poll() is None)
    if missing > 0:
        _release(_start(missing))
    if target is None:
        return
    with _SESSION.lock:
        idle = list(_SESSION.idle)
    for p in idle:
        try:
            send(p.stdin, (_LOAD, target))  # type: ignore[arg-type]
        except (OSError, ValueError):  # gone: _acquire replaces it
            pass


@contextmanager
def keep_workers() -> Iterator[None]:
    """Keep worker processes between ``map_batches`` calls until the block ends (then they exit).

    Also a decorator (``@keep_workers()``): a step's ``prestart`` and ``map_batches`` then share its
    workers, which end when it returns.
    """
    with _SESSION.lock:
        _SESSION.depth += 1
    try:
        yield
    finally:
        with _SESSION.lock:
            _SESSION.depth -= 1
            ending = _SESSION.idle if _SESSION.depth == 0 else []
            if _SESSION.depth == 0:
                _SESSION.idle = []
        _stop(ending)


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
