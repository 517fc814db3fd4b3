"""The national-scale benchmark: every stage timed, memory measured, compared with DuckDB in the same run.

    .venv/bin/python benchmarks/run.py --companies 100000            # all scenarios
    .venv/bin/python benchmarks/run.py --companies 1000 --scenarios year --no-flow   # smoke size

Scenarios (see benchmarks/README.md for what each figure means):
- ``month``: a national month. The seeded generator writes the synthetic submissions (timed apart,
  excluded from targets); a worker process times each stage of the real pipeline code as plain
  functions, sampling its RSS per stage; DuckDB recomputes indicators and primary suppression from
  the accepted Parquet and the numbers are compared; then the real monthly flow runs in a subprocess
  against a standing Prefect server (started here, stopped at the end), once to warm up and once timed.
- ``year``: a national year of compute: 12 months x companies accepted rows written directly as
  Parquet; company indicators + disclosure-controlled aggregates (pandas, the project's code) against
  the DuckDB reference on the same files.
- ``kaltim``: the bundled Kaltim month through ``produktivitas run`` against the server and ephemeral.

The last line printed is always
``end-to-end <s> s; compute/duckdb <ratio>x; peak RSS <MB> MB; rows <n>``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.measure import (  # noqa: E402
    Measurement,
    machine_info,
    measure,
    ru_maxrss_mb,
    run_measured,
)

TARGETS = {
    "month_end_to_end_s": 60.0,
    "month_peak_rss_mb": 2048.0,
    "year_compute_over_duckdb": 2.0,
    "kaltim_server_s": 12.0,
    "kaltim_ephemeral_warm_s": 30.0,
}
PYTHON = sys.executable
BIN = Path(sys.executable).parent


# --- helpers -------------------------------------------------------------------------------------
def _log(msg: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _base_env(prefect_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="240",
        PREFECT_TASKS_DEFAULT_NO_CACHE="true",
        PREFECT_LOGGING_LEVEL="WARNING",
        GX_ANALYTICS_ENABLED="false",
        PYTHONPATH=str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.pop("PRODUKTIVITAS_CONFIG", None)
    env.pop("BPS_API_KEY", None)  # the benchmark never reaches the real WebAPI
    return env


class PrefectServer:
    """``prefect server start`` on a free loopback port with its own PREFECT_HOME; stopped by its own pid."""

    def __init__(self, home: Path, log_path: Path) -> None:
        self.home = home
        self.log_path = log_path
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self, timeout: float = 300.0) -> PrefectServer:
        self.home.mkdir(parents=True, exist_ok=True)
        env = _base_env(self.home)
        env["PREFECT_UI_ENABLED"] = "false"  # the benchmark needs the API only
        t0 = time.perf_counter()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                str(BIN / "prefect"),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-ui",
                "--analytics-off",
            ],  # fmt: skip
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() ends it and its children only
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.api_url + "/health", timeout=2) as r:
                    if r.status == 200:
                        self.start_seconds = time.perf_counter() - t0
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"prefect server did not answer {self.api_url}/health within {timeout} s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- the stage worker (runs in its own process so its peak RSS is the pipeline's alone) -------------
def _stage(ms: list[Measurement], name: str, fn: Callable[[], int | None]) -> Any:
    """Run one stage step under measure(); a step whose code is not in the repo yet is 'skipped'."""
    try:
        with measure(name) as m:
            m.rows = fn()
    except (ImportError, AttributeError, NotImplementedError) as exc:
        m = Measurement(name=name, status="skipped", note=f"not available: {type(exc).__name__}: {exc}"[:300])
    except Exception as exc:  # a failing stage is a finding to report, not a reason to stop
        m = ms_failed(name, exc)
    ms.append(m)
    return m


def ms_failed(name: str, exc: BaseException) -> Measurement:
    return Measurement(name=name, status="failed", note=f"{type(exc).__name__}: {exc}"[:500])


def stages_worker(period: str, storage_root: str, out_json: str) -> None:
    """Time each stage of the real pipeline code as plain functions (no Prefect), in order."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from benchmarks import stage_adapters as sa

    ms: list[Measurement] = []
    ctx: dict[str, Any] = {"period": period, "storage_root": storage_root}
    t0 = time.perf_counter()
    _stage(ms, "imports", lambda: sa.imports(ctx))
    for name, fn in sa.STEPS:
        m = _stage(ms, name, lambda fn=fn: fn(ctx))
        if m.status != "ok":
            ctx.setdefault("broken", []).append(name)
    result = {
        "measurements": [m.to_dict() for m in ms],
        "counts": {k: v for k, v in ctx.get("counts", {}).items()},
        "wall_seconds": time.perf_counter() - t0,
        "ru_maxrss_mb": ru_maxrss_mb(),
    }
    Path(out_json).write_text(json.dumps(result, indent=2, default=str))


STAGE_FLOWS = (
    ("bps", "flows.stage_bps", "bps_stage"),
    ("submissions", "flows.stage_submissions", "submissions_stage"),
    ("company", "flows.stage_company", "company_stage"),
    ("bulletin", "flows.stage_bulletin", "bulletin_stage"),
)


def _composed_flow() -> Any:
    """The stage subflows composed as flows/monthly.py composes them, for while the lead is still wiring it.

    Same stage interface, same order; each stage's wall time inside the flow is recorded too.
    """
    import importlib
    import inspect

    from prefect import flow

    from flows.settings import load_settings

    @flow(name="benchmark-monthly-composed", flow_run_name="bench-{period}")
    def composed(period: str, storage_root: str) -> dict[str, Any]:
        settings = load_settings(storage_root=storage_root)
        run_id = "benchmark-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        stages: dict[str, Any] = {}
        for name, module, attr in STAGE_FLOWS:
            try:
                fn = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError):
                continue
            kwargs: dict[str, Any] = {"settings": settings, "storage_root": storage_root, "period": period,
                                      "run_id": run_id}  # fmt: skip
            if "deliver" in inspect.signature(fn.fn).parameters:
                kwargs["deliver"] = False
            t0 = time.perf_counter()
            stages[name] = dict(fn(**kwargs) or {})
            stages[name]["_seconds"] = time.perf_counter() - t0
        return {"stages": stages}

    return composed


def _runs_since(started: datetime) -> dict[str, Any]:
    """Flow runs (the flow and its stage subflows) and task-run counts the server recorded for this run."""
    try:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterStartTime,
            TaskRunFilter,
            TaskRunFilterStartTime,
        )

        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=started))
            )
            tasks: list[Any] = []
            while True:  # the API returns at most 200 per call
                page = client.read_task_runs(
                    task_run_filter=TaskRunFilter(start_time=TaskRunFilterStartTime(after_=started)),
                    limit=200,
                    offset=len(tasks),
                )
                tasks += page
                if len(page) < 200:
                    break
        return {
            "flow_runs": {r.name: round(r.total_run_time.total_seconds(), 3) for r in runs},
            "task_runs": len(tasks),
            "task_seconds": round(sum(t.total_run_time.total_seconds() for t in tasks), 3),
            "task_run_seconds": {t.name: round(t.total_run_time.total_seconds(), 3) for t in tasks},
        }
    except Exception as exc:  # the figures are a bonus; never fail the benchmark for them
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


def flow_worker(period: str, storage_root: str, out_json: str, mode: str = "auto") -> None:
    """Run the real monthly flow once (the caller points PREFECT_API_URL at the standing server).

    ``auto``: flows/monthly.py when it wires every stage module present, else the same stages composed here.
    """
    import importlib.util
    import inspect

    t0 = time.perf_counter()
    from flows import prefect_env

    prefect_env.configure()
    from flows import monthly

    present = [n for n, mod, _ in STAGE_FLOWS if importlib.util.find_spec(mod) is not None]
    src = inspect.getsource(monthly)
    wired = [n for n, mod, _ in STAGE_FLOWS if mod in src]
    use = mode
    if mode == "auto":
        use = "monthly" if set(present) <= set(wired) else "composed"
    fn = monthly.monthly_flow if use == "monthly" else _composed_flow()
    t_import = time.perf_counter() - t0
    kwargs: dict[str, Any] = {"period": period, "storage_root": storage_root}
    if use == "monthly" and "deliver" in inspect.signature(monthly.monthly_flow.fn).parameters:
        kwargs["deliver"] = False  # no mail in a benchmark: rendering is timed, delivery is not
    started = datetime.now(UTC)
    t1 = time.perf_counter()
    summary = fn(**kwargs)
    t_flow = time.perf_counter() - t1
    stages = summary.get("stages", {}) if isinstance(summary, dict) else {}
    result = {
        # the server's records are read by the parent once this process has ended (``runs_worker``):
        # the benchmark's own queries are not part of what a scheduled run costs
        "started_at": started.isoformat(),
        "flow_used": use,
        "stages_present": present,
        "stages_wired_in_monthly": wired,
        "import_seconds": t_import,
        "flow_seconds": t_flow,
        "ru_maxrss_mb": ru_maxrss_mb(),
        "stages": sorted(stages),
        "stage_seconds": {k: v.get("_seconds") for k, v in stages.items() if isinstance(v, dict)},
        "counts": {k: (v or {}).get("counts", {}) for k, v in stages.items()},
        "fatal": {k: v.get("fatal") for k, v in stages.items() if isinstance(v, dict) and v.get("fatal")},
    }
    Path(out_json).write_text(json.dumps(result, indent=2, default=str))


def runs_worker(since: str, out_json: str) -> None:
    """Read what the server recorded since ``since`` (the caller points PREFECT_API_URL at it)."""
    Path(out_json).write_text(json.dumps(_runs_since(datetime.fromisoformat(since)), indent=2, default=str))


def _runs_on_server(env: dict[str, str], since: str | None, out: Path, timeout: float) -> dict[str, Any]:
    if not since:
        return {"error": "the flow process did not report its start"}
    out.unlink(missing_ok=True)
    cmd = [
        PYTHON,
        str(Path(__file__).resolve()),
        "--worker",
        "runs",
        "--since",
        since,
        "--worker-out",
        str(out),
    ]
    subprocess.run(cmd, env=env, cwd=str(PROJECT_ROOT), timeout=timeout, check=False, capture_output=True)
    return (
        json.loads(out.read_text()) if out.exists() else {"error": "the query of the server's records failed"}
    )


def _worker_cmd(kind: str, period: str, root: Path, out: Path, flow_mode: str = "auto") -> list[str]:
    return [PYTHON, str(Path(__file__).resolve()), "--worker", kind, "--period", period,
            "--storage-root", str(root), "--worker-out", str(out), "--flow-mode", flow_mode]  # fmt: skip


def _run_worker(
    kind: str,
    period: str,
    root: Path,
    out: Path,
    env: dict[str, str],
    timeout: float,
    flow_mode: str = "auto",
) -> dict:
    out.unlink(missing_ok=True)
    cmd = _worker_cmd(kind, period, root, out, flow_mode)
    res = run_measured(cmd, env=env, cwd=str(PROJECT_ROOT), timeout=timeout)
    data: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    data.update(
        process_seconds=res.seconds,
        process_cpu_seconds=res.cpu_seconds,
        process_peak_rss_mb=res.peak_rss_mb,
        returncode=res.returncode,
    )
    if res.returncode != 0:
        data["stderr_tail"] = res.stderr[-3000:]
    return data


# --- scenario: a national month ------------------------------------------------------------------
def scenario_month(args: argparse.Namespace, server: PrefectServer | None) -> dict[str, Any]:
    root = Path(args.workdir) / "national" / "data"
    period = args.period
    out: dict[str, Any] = {"period": period, "companies": args.companies, "storage_root": str(root)}
    raw = root / "raw" / "submissions" / period
    if not args.skip_generate or not raw.exists():
        shutil.rmtree(root, ignore_errors=True)
        (root / "processed").mkdir(parents=True)
        _log(f"month: generating {args.companies} companies for {period} (synthetic, seeded)")
        with measure("generate") as m:
            from tasks.sample_data import generate_period
            from tasks.storage import Storage

            gen = generate_period(
                period,
                n_companies=args.companies,
                seed=args.seed,
                n_kabkota=10,
                mistakes=True,
                bulk_csv_share=args.bulk_csv_share,
                out=Storage(root),
            )
            m.rows = gen.rows
        out["generate"] = m.to_dict() | {
            "files": len(gen.files),
            "mistakes": {k: len(v) for k, v in gen.mistakes.items()},
            "bytes": sum(p.stat().st_size for p in raw.iterdir()),
        }
    else:
        _log(f"month: reusing {raw}")
        shutil.rmtree(root / "processed", ignore_errors=True)
        (root / "processed").mkdir(parents=True)
    out["raw_files"] = len(list(raw.iterdir()))
    if not (root / "raw" / "bps").exists():
        # the BPS stage of the flow needs its bundled snapshot; the bulletin needs what it writes
        shutil.copytree(PROJECT_ROOT / "data" / "raw" / "bps", root / "raw" / "bps")

    env = _base_env(Path(args.workdir) / "prefect-client")
    _log("month: timing each stage as plain functions in a worker process")
    stages = _run_worker("stages", period, root, Path(args.workdir) / "stages.json", env, args.timeout)
    out["stages"] = stages
    out["duckdb"] = _duckdb_check(
        str(root / "processed" / "submissions" / f"period={period}" / "*.parquet"),
        root / "processed" / "indicators",
        args,
    )
    if server is not None:
        env_srv = env | {"PREFECT_API_URL": server.api_url}
        runs = []
        for i in range(2):
            _log(
                f"month: monthly flow against the standing server, run {i + 1} of 2 ({'warm-up' if i == 0 else 'timed'})"
            )
            shutil.rmtree(root / "processed", ignore_errors=True)
            (root / "processed").mkdir(parents=True)
            out_json = Path(args.workdir) / f"flow{i}.json"
            run = _run_worker("flow", period, root, out_json, env_srv, args.timeout, args.flow_mode)
            run["runs_on_server"] = _runs_on_server(
                env_srv, run.get("started_at"), Path(args.workdir) / f"runs{i}.json", args.timeout
            )
            runs.append(run)
        out["flow_warmup"], out["flow"] = runs
        stage_sum = sum(
            m["seconds"]
            for m in stages.get("measurements", [])
            if m["status"] == "ok" and m["name"] != "imports"
        )
        flow = out["flow"]
        if flow.get("returncode") == 0:
            out["prefect_overhead_seconds"] = flow["flow_seconds"] - stage_sum
    return out


def _duckdb_check(input_glob: str, indicators_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """DuckDB over the accepted Parquet; compare with the pipeline's company and aggregate Parquet if written."""
    import glob

    import pandas as pd

    from benchmarks import duckdb_reference as dr

    if not glob.glob(input_glob):
        return {"status": "skipped", "note": f"no accepted Parquet at {input_glob}"}
    ref = dr.run_reference(input_glob, args.min_companies, args.p_percent)
    out: dict[str, Any] = {"status": "ok", "seconds": ref.seconds, "threads": ref.threads,
                           "rows": len(ref.company), "cells": len(ref.aggregates)}  # fmt: skip
    comp_files = sorted(glob.glob(str(indicators_dir / "company" / "period=*" / "*.parquet")))
    agg_files = sorted(glob.glob(str(indicators_dir / "aggregates" / "period=*" / "*.parquet")))
    if comp_files:
        pipe = pd.concat([pd.read_parquet(f) for f in comp_files], ignore_index=True)
        out["company"] = dr.compare_company(pipe, ref.company).to_dict()
    if agg_files:
        pipe = pd.concat([pd.read_parquet(f) for f in agg_files], ignore_index=True)
        out["aggregates"] = dr.compare_aggregates(pipe, ref.aggregates).to_dict()
    out["agrees"] = all(out[k]["ok"] for k in ("company", "aggregates") if k in out) and bool(comp_files)
    return out


# --- scenario: a national year of compute --------------------------------------------------------
def scenario_year(args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd

    from benchmarks import duckdb_reference as dr
    from benchmarks import synthetic_accepted as syn
    from tasks.parquet_io import write_partition
    from tasks.storage import Storage

    root = Path(args.workdir) / "year" / "data"
    storage = Storage(root)
    periods = syn.periods_of_year(args.year, args.year_months)
    sub = root / "processed" / "submissions"
    out: dict[str, Any] = {"periods": periods, "companies": args.companies}
    have = all((sub / f"period={p}").exists() for p in periods)
    if not (args.skip_generate and have):
        shutil.rmtree(root, ignore_errors=True)
        _log(f"year: writing {len(periods)} x {args.companies} accepted rows as Parquet (synthetic)")
        with measure("generate") as m:
            firms = syn.companies(args.companies, args.seed, args.n_kabkota)
            schema = syn.accepted_schema()
            for p in periods:
                table = syn.to_accepted_table(syn.month_rows(firms, p, args.seed), schema)
                write_partition(storage, "processed/submissions", f"period={p}", table, {"synthetic": "true"})
            m.rows = len(periods) * args.companies
        out["generate"] = m.to_dict() | {"accepted_schema": "project" if schema is not None else "own"}
    input_glob = str(sub / "period=*" / "*.parquet")
    out["rows"] = len(periods) * args.companies

    _log("year: pandas (project code) indicators + aggregates, month by month with history")
    from benchmarks import stage_adapters as sa

    company_frames: list[pd.DataFrame] = []
    agg_frames: list[pd.DataFrame] = []
    steps: dict[str, Measurement] = {}
    t = {"read_parquet": [0.0, 0.0], "company_indicators": [0.0, 0.0], "aggregates": [0.0, 0.0]}
    history: pd.DataFrame | None = None

    def lap(key: str, w0: float, c0: float) -> tuple[float, float]:
        w1, c1 = time.perf_counter(), time.process_time()
        t[key][0] += w1 - w0
        t[key][1] += c1 - c0
        return w1, c1

    with measure("pandas_total", rows=out["rows"]) as total:
        for p in periods:
            w, c = time.perf_counter(), time.process_time()
            cur = pd.read_parquet(sub / f"period={p}")
            w, c = lap("read_parquet", w, c)
            comp = sa.company_indicators_frame(cur, history, args)
            w, c = lap("company_indicators", w, c)
            agg = sa.aggregates_frame(comp, p, args, previous=agg_frames[-1] if agg_frames else None)
            lap("aggregates", w, c)
            company_frames.append(comp)
            if agg is not None:
                agg_frames.append(agg)
            history = cur if history is None else pd.concat([history, cur], ignore_index=True)
    for name, (secs, cpu) in t.items():
        steps[name] = Measurement(
            name=name, seconds=secs, cpu_seconds=cpu, rows=out["rows"], peak_rss_mb=total.peak_rss_mb
        )
    if not agg_frames:
        steps["aggregates"].status = "skipped"
    out["pandas"] = {"total": total.to_dict(), "steps": {k: v.to_dict() for k, v in steps.items()}}
    if not agg_frames:
        out["pandas"]["note"] = "aggregates with disclosure control not available yet (tasks/disclosure.py)"

    _log("year: DuckDB reference on the same Parquet")
    with measure("duckdb_total", rows=out["rows"]) as dm:
        ref = dr.run_reference(input_glob, args.min_companies, args.p_percent)
    out["duckdb"] = {"total": dm.to_dict(), "company_seconds": ref.seconds_company,
                     "aggregates_seconds": ref.seconds_aggregates, "threads": ref.threads}  # fmt: skip
    pipe_comp = pd.concat(company_frames, ignore_index=True)
    out["compare_company"] = dr.compare_company(pipe_comp, ref.company).to_dict()
    if agg_frames:
        out["compare_aggregates"] = dr.compare_aggregates(
            pd.concat(agg_frames, ignore_index=True), ref.aggregates
        ).to_dict()
    out["agrees"] = out["compare_company"]["ok"] and out.get("compare_aggregates", {"ok": True})["ok"]
    out["compute_over_duckdb"] = total.seconds / dm.seconds if dm.seconds > 0 else None
    compute_only = t["company_indicators"][0] + t["aggregates"][0]
    out["compute_only_over_duckdb"] = compute_only / dm.seconds if dm.seconds > 0 else None
    # CPU-time ratio: steadier than wall time when other work shares the machine
    out["compute_over_duckdb_cpu"] = total.cpu_seconds / dm.cpu_seconds if dm.cpu_seconds > 0 else None
    out["aggregates_included"] = bool(agg_frames)
    return out


# --- scenario: the bundled Kaltim month ----------------------------------------------------------
def scenario_kaltim(args: argparse.Namespace, server: PrefectServer | None) -> dict[str, Any]:
    root = Path(args.workdir) / "kaltim" / "data"
    out: dict[str, Any] = {"period": "2025-08", "storage_root": str(root)}
    cmd_base = [
        str(BIN / "produktivitas"),
        "run",
        "--period",
        "2025-08",
        "--storage-root",
        str(root),
        "--quiet",
    ]

    def fresh() -> None:
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
        (root / "processed").mkdir(parents=True)

    def one(env: dict[str, str]) -> dict[str, Any]:
        fresh()
        r = run_measured(cmd_base, env=env, cwd=str(PROJECT_ROOT), timeout=args.timeout)
        d = {"seconds": r.seconds, "cpu_seconds": r.cpu_seconds, "peak_rss_mb": r.peak_rss_mb,
             "returncode": r.returncode}  # fmt: skip
        if r.returncode != 0:
            d["stderr_tail"] = r.stderr[-2000:]
        return d

    if server is not None:
        env = _base_env(Path(args.workdir) / "prefect-client") | {"PREFECT_API_URL": server.api_url}
        _log("kaltim: produktivitas run against the standing server (warm-up, then timed)")
        out["server_warmup"] = one(env)
        out["server"] = one(env)
    if not args.no_ephemeral:
        env = _base_env(Path(args.workdir) / "prefect-ephemeral")
        _log("kaltim: produktivitas run in ephemeral mode (first run, then timed warm run)")
        out["ephemeral_first"] = one(env)
        out["ephemeral_warm"] = one(env)
    return out


# --- report --------------------------------------------------------------------------------------
def _fmt(x: Any, nd: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    return str(x)


def table_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    """(scenario, step, status, wall s, cpu s, rows, rows/s, peak RSS MB) for the printed table."""
    rows: list[tuple[str, ...]] = []

    def row(sc: str, step: str, status: str, wall: Any = None, cpu: Any = None, n: Any = None,
            rps: Any = None, rss: Any = None) -> None:  # fmt: skip
        rows.append((sc, step, status, _fmt(wall), _fmt(cpu), _fmt(n), _fmt(rps, 0), _fmt(rss, 0)))

    def add(sc: str, d: dict[str, Any], name: str | None = None, status: str | None = None) -> None:
        row(sc, name or d["name"], status or d.get("status", "ok"), d.get("seconds"), d.get("cpu_seconds"),
            d.get("rows"), d.get("rows_per_second"), d.get("peak_rss_mb"))  # fmt: skip

    def proc(sc: str, name: str, d: dict[str, Any]) -> None:
        peak = max(d.get("ru_maxrss_mb") or 0, d.get("process_peak_rss_mb") or d.get("peak_rss_mb") or 0)
        row(sc, name, "ok" if d.get("returncode") == 0 else "failed", d.get("process_seconds", d.get("seconds")),
            d.get("process_cpu_seconds", d.get("cpu_seconds")), rss=peak)  # fmt: skip

    sc = results["scenarios"]
    if "month" in sc:
        mo = sc["month"]
        if "generate" in mo:
            add("month", mo["generate"], "generate (excluded)")
        for m in mo["stages"].get("measurements", []):
            add("month", m)
        proc("month", "stages worker process", mo["stages"])
        dk = mo.get("duckdb", {})
        if dk.get("status") == "ok":
            row(
                "month",
                "duckdb reference",
                "agrees" if dk.get("agrees") else "DIFFERS",
                dk["seconds"],
                n=dk["rows"],
            )
        for key, label in (("flow_warmup", "flow (server, warm-up)"), ("flow", "flow (server, warm)")):
            if key in mo:
                proc("month", label + " process", mo[key])
                if "flow_seconds" in mo[key]:
                    row("month", label + " flow call", "ok", mo[key]["flow_seconds"])
        if "prefect_overhead_seconds" in mo:
            row("month", "prefect overhead (flow - stages)", "ok", mo["prefect_overhead_seconds"])
    if "year" in sc:
        yr = sc["year"]
        if "generate" in yr:
            add("year", yr["generate"], "generate (excluded)")
        for m in yr["pandas"]["steps"].values():
            add("year", m, "pandas " + m["name"])
        add("year", yr["pandas"]["total"], "pandas total")
        add("year", yr["duckdb"]["total"], "duckdb total", "agrees" if yr["agrees"] else "DIFFERS")
        rows.append(("year", "pandas / duckdb", "", _fmt(yr["compute_over_duckdb"]) + "x", "", "", "", ""))
    if "kaltim" in sc:
        for key, d in sc["kaltim"].items():
            if isinstance(d, dict) and "seconds" in d:
                proc("kaltim", key, d)
    return rows


def print_table(rows: list[tuple[str, ...]]) -> None:
    head = ("scenario", "step", "status", "wall s", "cpu s", "rows", "rows/s", "peak RSS MB")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(
            str(v).ljust(w) if i < 3 else str(v).rjust(w)
            for i, (v, w) in enumerate(zip(r, widths, strict=True))
        )

    print(line(head))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The headline figures and the targets they are judged against."""
    sc = results["scenarios"]
    s: dict[str, Any] = {"end_to_end_s": None, "end_to_end_basis": None, "peak_rss_mb": None,
                         "compute_over_duckdb": None, "rows": None, "targets": {}}  # fmt: skip
    mo = sc.get("month")
    if mo:
        flow = mo.get("flow")
        st = mo["stages"]
        if flow and flow.get("returncode") == 0:
            s["end_to_end_s"] = flow["process_seconds"]
            s["end_to_end_basis"] = (
                "monthly flow subprocess against the standing server, warm (incl. imports)"
            )
            s["peak_rss_mb"] = max(flow.get("ru_maxrss_mb", 0), flow.get("process_peak_rss_mb", 0))
        else:
            s["end_to_end_s"] = st.get("process_seconds")
            s["end_to_end_basis"] = "stage worker subprocess, plain functions, no Prefect (flow not run)"
            s["peak_rss_mb"] = max(st.get("ru_maxrss_mb", 0), st.get("process_peak_rss_mb", 0))
        reads = [m for m in st.get("measurements", []) if m["name"] == "read" and m["status"] == "ok"]
        s["rows"] = reads[0]["rows"] if reads else mo["companies"]
        s["targets"]["month_end_to_end_s"] = _judge(s["end_to_end_s"], TARGETS["month_end_to_end_s"])
        s["targets"]["month_peak_rss_mb"] = _judge(s["peak_rss_mb"], TARGETS["month_peak_rss_mb"])
    yr = sc.get("year")
    if yr:
        s["compute_over_duckdb"] = yr["compute_over_duckdb"]
        s["targets"]["year_compute_over_duckdb"] = _judge(
            yr["compute_over_duckdb"], TARGETS["year_compute_over_duckdb"]
        )
        if s["rows"] is None:
            s["rows"] = yr["rows"]
    elif mo and mo.get("duckdb", {}).get("status") == "ok":
        pandas_s = sum(m["seconds"] for m in mo["stages"]["measurements"]
                       if m["name"] in ("company_indicators", "aggregates") and m["status"] == "ok")  # fmt: skip
        s["compute_over_duckdb"] = pandas_s / mo["duckdb"]["seconds"] if mo["duckdb"]["seconds"] else None
    ka = sc.get("kaltim")
    if ka:
        if "server" in ka:
            s["targets"]["kaltim_server_s"] = _judge(
                ka["server"]["seconds"], TARGETS["kaltim_server_s"], ka["server"]
            )
        if "ephemeral_warm" in ka:
            s["targets"]["kaltim_ephemeral_warm_s"] = _judge(
                ka["ephemeral_warm"]["seconds"], TARGETS["kaltim_ephemeral_warm_s"], ka["ephemeral_warm"]
            )
    return s


def _judge(value: float | None, limit: float, run: dict[str, Any] | None = None) -> dict[str, Any]:
    if value is None:
        return {"value": None, "limit": limit, "met": None}
    ok = value <= limit and (run is None or run.get("returncode") == 0)
    return {"value": round(value, 3), "limit": limit, "met": ok}


def summary_line(s: dict[str, Any]) -> str:
    e2e = "n/a" if s["end_to_end_s"] is None else f"{s['end_to_end_s']:.1f}"
    ratio = "n/a" if s["compute_over_duckdb"] is None else f"{s['compute_over_duckdb']:.2f}"
    rss = "n/a" if s["peak_rss_mb"] is None else f"{s['peak_rss_mb']:.0f}"
    rows = "n/a" if s["rows"] is None else str(s["rows"])
    return f"end-to-end {e2e} s; compute/duckdb {ratio}x; peak RSS {rss} MB; rows {rows}"


# --- main ----------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="National-scale benchmark of the produktivitas pipeline.")
    p.add_argument("--companies", type=int, default=100_000)
    p.add_argument("--workdir", default=str(PROJECT_ROOT / "benchmarks" / "work"))
    p.add_argument("--results-dir", default=str(PROJECT_ROOT / "benchmarks" / "results"))
    p.add_argument("--skip-generate", action="store_true", help="reuse the data of an earlier run")
    p.add_argument("--scenarios", default="month,year,kaltim", help="comma list of month, year, kaltim")
    p.add_argument("--period", default="2025-08")
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--year", type=int, default=2025, help="the year of the 'year' scenario")
    p.add_argument("--year-months", type=int, default=12)
    p.add_argument("--n-kabkota", type=int, default=514, help="synthetic national kab/kota codes (year)")
    p.add_argument("--bulk-csv-share", type=float, default=0.9)
    p.add_argument("--min-companies", type=int, default=3)
    p.add_argument("--p-percent", type=float, default=10.0)
    p.add_argument("--no-flow", action="store_true", help="month: skip the Prefect server and the flow runs")
    p.add_argument(
        "--flow-mode",
        choices=("auto", "monthly", "composed"),
        default="auto",
        help="month: flows/monthly.py, or the stage subflows composed here while monthly.py lacks some",
    )
    p.add_argument("--no-ephemeral", action="store_true", help="kaltim: skip the ephemeral-mode runs")
    p.add_argument("--timeout", type=float, default=1800.0, help="per subprocess, seconds")
    p.add_argument("--worker", choices=("stages", "flow", "runs"), help=argparse.SUPPRESS)
    p.add_argument("--since", help=argparse.SUPPRESS)
    p.add_argument("--storage-root", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker == "stages":
        stages_worker(args.period, args.storage_root, args.worker_out)
        return 0
    if args.worker == "flow":
        flow_worker(args.period, args.storage_root, args.worker_out, args.flow_mode)
        gc.freeze()  # the process ends as `produktivitas run` ends (flows/cli.py main)
        return 0
    if args.worker == "runs":
        runs_worker(args.since, args.worker_out)
        return 0

    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(scenarios) - {"month", "year", "kaltim"}
    if unknown:
        print(f"unknown scenario(s): {sorted(unknown)}; use month, year, kaltim", file=sys.stderr)
        return 2
    workdir = Path(args.workdir).resolve()
    args.workdir = str(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    command = (
        "cd "
        + shlex.quote(str(PROJECT_ROOT))
        + " && .venv/bin/python benchmarks/run.py "
        + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    )
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine_info(),
        "companies": args.companies,
        "targets": TARGETS,
        "scenarios": {},
        "synthetic": "all company data in this benchmark is synthetic (seeded generators)",
    }
    needs_server = ("month" in scenarios and not args.no_flow) or "kaltim" in scenarios
    server: PrefectServer | None = None
    try:
        if needs_server:
            _log("starting a Prefect server on loopback")
            server = PrefectServer(workdir / "prefect-server", workdir / "prefect-server.log").start()
            results["prefect_server"] = {"api_url": server.api_url, "start_seconds": server.start_seconds}
        if "month" in scenarios:
            results["scenarios"]["month"] = scenario_month(args, server)
        if "year" in scenarios:
            results["scenarios"]["year"] = scenario_year(args)
        if "kaltim" in scenarios:
            results["scenarios"]["kaltim"] = scenario_kaltim(args, server)
    finally:
        if server is not None:
            server.stop()
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["summary"] = summarise(results)
    results["summary_line"] = summary_line(results["summary"])

    rows = table_rows(results)
    print_table(rows)
    print()
    for name, t in results["summary"]["targets"].items():
        verdict = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        print(f"target {name}: {_fmt(t['value'])} (limit {t['limit']}) {verdict}")
    m = results["machine"]
    print(f"machine: {m['usable_cores']} cores, {m['memory_gb']} GB, {m['cpu']}, Python {m['python']}, "
          f"load {m['load_avg_1m']}; " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()))  # fmt: skip
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_path = out_dir / f"{stamp}-{args.companies}.json"
    out_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"results: {out_path}")
    print(f"command: {command}")
    print(results["summary_line"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
