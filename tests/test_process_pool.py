"""The worker pool used for big periods: results in batch order, fallback, early stop."""

from __future__ import annotations

import tasks.process_pool as pp


def test_results_come_back_in_batch_order_from_two_workers(monkeypatch):
    started: list[int] = []
    real_start = pp._start
    monkeypatch.setattr(pp, "_start", lambda n: started.append(n) or real_start(n))
    batches = [[i] for i in range(40)]
    # builtins.max(shared, batch) stands in for a batch function: [i] for i > 0, the shared [0] for 0
    assert list(pp.map_batches("builtins:max", [0], batches, 2)) == batches
    assert started == [2]


def test_stopping_early_ends_the_workers(monkeypatch):
    procs: list = []
    real_start = pp._start
    monkeypatch.setattr(pp, "_start", lambda n: procs.extend(real_start(n)) or procs)
    gen = pp.map_batches("builtins:max", [0], pp.LazyBatches(10_000, lambda i: [i] * 1000), 2)
    assert next(gen) == [0] * 1000
    gen.close()  # the workers may be blocked writing results nobody reads: they are killed, not waited on
    assert len(procs) == 2 and all(p.poll() is not None for p in procs)


def test_without_worker_processes_everything_runs_in_process(monkeypatch):
    def no_processes(*a, **k):
        raise OSError("no processes here")

    monkeypatch.setattr(pp.subprocess, "Popen", no_processes)
    assert list(pp.map_batches("builtins:max", [5], [[1], [9]], 2)) == [[5], [9]]


def _die_in_worker_on(shared, batch):
    """A batch function that kills its worker process on ``shared`` (in-process it just returns)."""
    import os
    import sys

    if batch == shared and sys.argv[0] == "-c":  # a worker runs ``python -c``; pytest does not
        os._exit(3)
    return batch


def _counting_start(monkeypatch) -> list:
    procs: list = []
    real_start = pp._start
    monkeypatch.setattr(pp, "_start", lambda n: procs.extend(started := real_start(n)) or started)
    return procs


def test_keep_workers_reuses_the_processes_and_ends_them(monkeypatch):
    procs = _counting_start(monkeypatch)
    with pp.keep_workers():
        assert list(pp.map_batches("builtins:max", [0], [[i] for i in range(10)], 2)) == [
            [i] for i in range(10)
        ]
        assert list(pp.map_batches("builtins:min", [5], [[i] for i in range(10)], 2)) == [
            [min(i, 5)] if i < 5 else [5] for i in range(10)
        ]  # a new function and shared value for the same processes
        assert len(procs) == 2 and all(p.poll() is None for p in procs)
    assert all(p.wait(timeout=10) == 0 for p in procs)  # stdin closed: they exit cleanly


def test_prestart_starts_workers_only_inside_keep_workers(monkeypatch):
    procs = _counting_start(monkeypatch)
    pp.prestart(2)
    assert procs == []
    with pp.keep_workers():
        pp.prestart(2)
        assert len(procs) == 2
        assert list(pp.map_batches("builtins:max", [0], [[1], [2], [3]], 2)) == [[1], [2], [3]]
        assert len(procs) == 2  # the prestarted ones did the work


def test_a_worker_that_dies_in_a_session_is_redone_here_and_replaced(monkeypatch):
    procs = _counting_start(monkeypatch)
    batches = [[i] for i in range(8)]
    with pp.keep_workers():
        assert list(pp.map_batches("tests.test_process_pool:_die_in_worker_on", [3], batches, 2)) == batches
        assert list(pp.map_batches("builtins:max", [0], batches, 2)) == batches
        assert len(procs) == 3  # the dead one was replaced by a new process
        assert sum(p.poll() is None for p in procs) == 2


def test_results_may_wait_while_the_caller_is_busy():
    # ahead=1: each worker may hold one finished result; a slow consumer still gets all, in order
    import time

    out = []
    for r in pp.map_batches("builtins:max", [0], [[i] for i in range(12)], 2, ahead=1):
        time.sleep(0.01)
        out.append(r)
    assert out == [[i] for i in range(12)]


def test_keep_workers_as_a_decorator_keeps_them_for_each_call_only(monkeypatch):
    procs = _counting_start(monkeypatch)

    @pp.keep_workers()
    def step() -> list:
        pp.prestart(2)
        return list(pp.map_batches("builtins:max", [0], [[1], [2], [3]], 2))

    assert step() == step() == [[1], [2], [3]]
    assert len(procs) == 4  # two per call, prestarted and then used
    assert all(p.wait(timeout=10) == 0 for p in procs)  # each call's workers ended with it


def test_prestart_with_a_target_imports_its_module_before_the_first_job(monkeypatch, tmp_path):
    import time

    mark = tmp_path / "imported-by"
    monkeypatch.setenv("PRODUKTIVITAS_TEST_PRELOAD_MARK", str(mark))
    procs = _counting_start(monkeypatch)
    with pp.keep_workers():
        pp.prestart(2, "tests.pool_preload:double")
        # no job was sent yet: only the preload can make the workers import the module
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(_lines(mark)) < 2:
            time.sleep(0.05)
        assert sorted(_lines(mark)) == sorted(str(p.pid) for p in procs)
        assert list(pp.map_batches("tests.pool_preload:double", 2, [[1], [2], [3]], 2)) == [[2], [4], [6]]
        assert len(procs) == 2
    assert sorted(_lines(mark)) == sorted(str(p.pid) for p in procs)  # imported once in each worker


def _lines(path) -> list[str]:
    return path.read_text().split() if path.exists() else []
