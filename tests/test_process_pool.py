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
