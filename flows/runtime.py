"""How runs execute: period resolution, retry/caching policy, task runner, failure alerts, progress.

Tasks in ``tasks/`` stay free of policy (they may not import ``flows/``); stages apply the policy
below with ``some_task.with_options(**NETWORK_TASK_OPTIONS)`` so the same task is configured, not
forked. The monthly flow gets its task runner and failure hooks from :func:`configure_flow`.
"""

from __future__ import annotations

import re
import sys
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # prefect is imported lazily so `produktivitas --help` stays instant
    from prefect import Flow
    from prefect.client.schemas.objects import FlowRun
    from prefect.state import State
    from prefect.task_runners import TaskRunner

    from flows.settings import Settings

WITA = "Asia/Makassar"
PREVIOUS = ("previous", "previous-month", "prev", "")
CURRENT = ("current", "this-month")

# --- retry policy, by kind of task ------------------------------------------------------------
# Network fetches fail transiently (BPS WebAPI 5xx, timeouts): retry with growing delays plus
# jitter so parallel runs do not hammer the API in lock-step.
NETWORK_RETRIES = 3
NETWORK_RETRY_DELAYS: list[float] = [2.0, 10.0, 30.0]
NETWORK_RETRY_JITTER = 0.3
# SMTP servers throttle and greylist; a minute later usually works. Sending is made idempotent by
# the delivery ledger, so a retry never sends a message twice.
SMTP_RETRIES = 2
SMTP_RETRY_DELAYS: list[float] = [15.0, 60.0]
# Parsing, validation, indicator maths, rendering and Parquet writes are deterministic: a retry
# would fail the same way and only hide the error.
COMPUTE_RETRIES = 0

NETWORK_TASK_OPTIONS: dict[str, Any] = {
    "retries": NETWORK_RETRIES,
    "retry_delay_seconds": NETWORK_RETRY_DELAYS,
    "retry_jitter_factor": NETWORK_RETRY_JITTER,
}
SMTP_TASK_OPTIONS: dict[str, Any] = {
    "retries": SMTP_RETRIES,
    "retry_delay_seconds": SMTP_RETRY_DELAYS,
    "retry_jitter_factor": NETWORK_RETRY_JITTER,
}
COMPUTE_TASK_OPTIONS: dict[str, Any] = {"retries": COMPUTE_RETRIES}

# BPS responses change at most with a new release: a fetch with the same inputs within a day is
# served from Prefect's result cache (also across processes, hence persisted results).
BPS_CACHE_EXPIRATION = timedelta(days=1)


def bps_fetch_cache_options(secret_params: tuple[str, ...] = ("api_key",)) -> dict[str, Any]:
    """Task options for a cached BPS fetch: INPUTS + TASK_SOURCE, one day, secrets excluded.

    Prefect hashes inputs with JSON, falling back to cloudpickle + md5 for other objects, so a
    :class:`tasks.secrets.Secret` argument would only enter the key as a digest; excluding the key
    parameter keeps even that out (the response does not depend on whose key fetched it).
    """
    from prefect.cache_policies import INPUTS, TASK_SOURCE

    inputs = INPUTS
    for name in secret_params:
        inputs = inputs - name
    return {
        "cache_policy": inputs + TASK_SOURCE,
        "cache_expiration": BPS_CACHE_EXPIRATION,
        "persist_result": True,
    }


# --- periods ------------------------------------------------------------------------------------
# Same rule as flows.monthly.check_period, kept here so this module imports without the stages.
_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_period(period: str) -> str:
    if not _PERIOD_RE.match(period or ""):
        raise ValueError(f"period must be YYYY-MM (e.g. 2025-08) or 'previous', got {period!r}")
    return period


def _month(dt: datetime) -> str:
    return f"{dt.year:04d}-{dt.month:02d}"


def resolve_period(value: str | None, now: datetime | None = None, tz: str = WITA) -> str:
    """``"previous"`` → the month before ``now`` in ``tz``; ``"current"`` → this month; ``YYYY-MM`` as is.

    A scheduled run on 5 September 07:00 WITA is 4 September 23:00 UTC: the month is taken on the
    WITA calendar, which is what the office means by "last month". A naive ``now`` is read as UTC.
    """
    v = (value or "").strip().lower()
    if v in PREVIOUS or v in CURRENT:
        moment = now or datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(ZoneInfo(tz))
        if v in CURRENT:
            return _month(local)
        year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        return f"{year:04d}-{month:02d}"
    return check_period((value or "").strip())


def period_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, in order."""
    check_period(start)
    check_period(end)
    y, m = int(start[:4]), int(start[5:])
    ey, em = int(end[:4]), int(end[5:])
    if (y, m) > (ey, em):
        raise ValueError(f"--from {start} is after --to {end}; give the earlier month first")
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return out


# --- task runners ------------------------------------------------------------------------------
LOCAL_DASK_CLUSTER: dict[str, Any] = {
    "n_workers": 2,
    "threads_per_worker": 1,
    "processes": True,
    "dashboard_address": None,
}


def task_runner_for(
    settings_or_kind: Settings | str = "thread",
    dask_address: str | None = None,
    max_workers: int = 4,
    cluster_kwargs: dict[str, Any] | None = None,
) -> TaskRunner:
    """The task runner a run uses: ``thread`` (default) or ``dask`` (a scheduler address or a local cluster).

    Accepts the settings (``task_runner``, ``dask_address``) or the CLI's ``--task-runner`` value.
    Dask costs ~190 ms per task here, so it only pays off for the heavy company/aggregate stages.
    """
    if isinstance(settings_or_kind, str):
        kind = settings_or_kind
        address = dask_address or ""
    else:
        kind = settings_or_kind.task_runner
        address = dask_address if dask_address is not None else settings_or_kind.dask_address
    kind = (kind or "thread").strip().lower()
    if kind in ("thread", "threads", "default"):
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=max_workers)
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(cluster_kwargs=dict(cluster_kwargs or LOCAL_DASK_CLUSTER))
    raise ValueError(f"task runner must be 'thread' or 'dask', not {kind!r}")


# --- subflows ----------------------------------------------------------------------------------------
def inline_stage_settings() -> AbstractContextManager[Any]:
    """Prefect settings for stage subflows that run inline in the monthly flow: no heartbeats of their own.

    The stages run in the monthly flow's process and thread, so its heartbeats already show the run
    is alive. A subflow's heartbeat thread sleeps in 1 s steps and is joined when the subflow ends:
    up to 1 s of idle wait per stage (2-3 s of a warm Kaltim month).
    """
    from prefect.settings import temporary_settings

    return temporary_settings(updates={"flows.heartbeat_frequency": None})


# --- failure alert -----------------------------------------------------------------------------
def flow_run_url(ui_url: str, flow_run_id: object) -> str:
    return f"{ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}" if ui_url else ""


def _failure_text(state: State) -> str:
    text = state.message or ""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception:  # the result may not be retrievable (crash, unpersisted); the message is enough
        exc = None
    if isinstance(exc, BaseException):
        detail = f"{type(exc).__name__}: {exc}"
        if detail not in text:
            text = f"{text}\n{detail}".strip()
    return text or state.name or "unknown failure"


def alert_on_failure(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """Prefect ``on_failure``/``on_crash`` hook: e-mail the data engineer (or write the alert to the outbox).

    A hook must never raise (it would hide the run's own error), so every problem here is logged.
    """
    from flows.settings import load_settings
    from flows.stage_bulletin import smtp_from_settings
    from tasks.alerts import build_alert, deliver_alert
    from tasks.logs import get_logger
    from tasks.storage import Storage

    log = get_logger()
    try:
        params = dict(flow_run.parameters or {})
        settings = load_settings(storage_root=params.get("storage_root"))
        smtp = smtp_from_settings(settings)
        msg = build_alert(
            sender=settings.smtp_sender,
            to=settings.alert_email,
            flow_name=flow.name,
            flow_run_name=flow_run.name,
            flow_run_id=str(flow_run.id),
            parameters=params,
            state_name=state.name or str(state.type),
            error=_failure_text(state),
            run_url=flow_run_url(settings.prefect_ui_url, flow_run.id),
            secrets=(settings.bps_api_key, settings.smtp_password),
        )
        where = deliver_alert(msg, Storage(settings.storage_root), smtp)
        log.warning("failure alert for run %s: %s", flow_run.name, where)
    except Exception as exc:
        log.error("could not send the failure alert: %s: %s", type(exc).__name__, exc)


def configure_flow(flow: Flow, settings: Settings, task_runner: TaskRunner | None = None) -> Flow:
    """``flow`` with the configured task runner and the failure alert hooks (same flow, configured)."""
    return flow.with_options(
        task_runner=task_runner or task_runner_for(settings),
        on_failure=[alert_on_failure],
        on_crashed=[alert_on_failure],
    )


# --- progress for a person at the terminal ------------------------------------------------------
class Progress:
    """Lines for a person watching a run: which period, which stage, rows so far. Silent when quiet."""

    def __init__(self, quiet: bool = False, stream: Any = None) -> None:
        self.quiet = quiet
        self.stream = stream
        self.seen: dict[str, list[str]] = {}
        self.rows = 0

    def _echo(self, text: str) -> None:
        if self.quiet:
            return
        print(text, file=self.stream or sys.stderr, flush=True)

    def period_start(self, period: str, index: int, total: int) -> None:
        self._echo(f"[{index}/{total}] {period}: starting")

    def stage_done(self, period: str, stage: str, result: dict[str, Any]) -> None:
        counts = result.get("counts", {}) or {}
        self.seen.setdefault(period, []).append(stage)
        self.rows += sum(v for k, v in counts.items() if isinstance(v, int) and k.endswith("rows"))
        status = "FAILED" if result.get("fatal") else "done"
        shown = ", ".join(f"{k}={v}" for k, v in counts.items())
        self._echo(f"    {period} {stage}: {status}" + (f" ({shown})" if shown else ""))

    def note(self, text: str) -> None:
        self._echo(f"    {text}")


_PROGRESS = Progress(quiet=True)


def set_progress(progress: Progress) -> None:
    global _PROGRESS
    _PROGRESS = progress


def get_progress() -> Progress:
    return _PROGRESS


def stage_done(period: str, stage: str, result: dict[str, Any]) -> dict[str, Any]:
    """Report a finished stage to the terminal (when a command turned progress on); returns ``result``.

    The monthly flow wraps each stage call: ``summary["stages"]["bps"] = stage_done(period, "bps", bps_stage(...))``.
    """
    _PROGRESS.stage_done(period, stage, result)
    return result
