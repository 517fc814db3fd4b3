"""The monthly deployment: cron in Asia/Makassar, period="previous" resolved on the WITA calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from flows.runtime import period_range, resolve_period, task_runner_for
from flows.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


# --- period resolution ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # the scheduled moment: 5 Sep 07:00 WITA is 4 Sep 23:00 UTC
        (datetime(2025, 9, 4, 23, 0, tzinfo=UTC), "2025-08"),
        # 1 Sep 00:30 WITA is still 31 Aug in UTC: the WITA calendar decides
        (datetime(2025, 8, 31, 16, 30, tzinfo=UTC), "2025-08"),
        (datetime(2025, 8, 31, 15, 59, tzinfo=UTC), "2025-07"),
        # year boundary
        (datetime(2026, 1, 5, 7, 0, tzinfo=timezone(timedelta(hours=8))), "2025-12"),
        # a naive time is UTC
        (datetime(2025, 9, 4, 23, 0), "2025-08"),
    ],
)
def test_previous_month_is_taken_in_wita(now, expected):
    assert resolve_period("previous", now=now) == expected


def test_resolve_period_explicit_current_and_errors():
    now = datetime(2025, 8, 31, 16, 30, tzinfo=UTC)
    assert resolve_period("2025-03", now=now) == "2025-03"
    assert resolve_period("current", now=now) == "2025-09"
    assert resolve_period("previous", now=now, tz="UTC") == "2025-07"
    for bad in ("2025-13", "2025-8", "last", "08-2025"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            resolve_period(bad, now=now)


def test_period_range_in_order_and_across_years():
    assert period_range("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert period_range("2025-08", "2025-08") == ["2025-08"]
    with pytest.raises(ValueError, match="after"):
        period_range("2025-08", "2025-01")


def test_task_runner_selection():
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert isinstance(task_runner_for("thread"), ThreadPoolTaskRunner)
    remote = task_runner_for("dask", "tcp://10.0.0.5:8786")
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"
    local = task_runner_for(load_settings(env={"PRODUKTIVITAS_TASK_RUNNER": "dask"}))
    assert isinstance(local, DaskTaskRunner) and local.address is None
    assert local.cluster_kwargs["n_workers"] == 2 and local.cluster_kwargs["dashboard_address"] is None
    with pytest.raises(ValueError, match="thread"):
        task_runner_for("spark")


# --- the deployment object ------------------------------------------------------------------------
@pytest.fixture
def deployments():
    pytest.importorskip("flows.stage_bps", reason="the monthly flow needs the BPS stage")
    from flows import deployments

    return deployments


def _only_schedule(dep):
    assert len(dep.schedules) == 1
    return dep.schedules[0].schedule


@pytest.mark.flow
def test_deployment_carries_wita_cron_and_previous_period(deployments, prefect_harness):
    dep = deployments.build_deployment(load_settings(env={}))
    sched = _only_schedule(dep)
    assert sched.cron == "0 7 5 * *"
    assert sched.timezone == "Asia/Makassar"
    assert dep.parameters == {"period": "previous", "deliver": True}
    assert dep.name == "monthly"
    assert dep.entrypoint == "flows/deployments.py:scheduled_monthly_flow"
    flow = deployments.scheduled_monthly_flow
    assert flow.name == "produktivitas-monthly"
    assert flow.on_failure_hooks and flow.on_crashed_hooks
    # the entrypoint resolves to the configured flow (what the run's subprocess imports)
    from prefect.flows import load_flow_from_entrypoint

    loaded = load_flow_from_entrypoint(str(ROOT / "flows/deployments.py") + ":scheduled_monthly_flow")
    assert loaded.on_failure_hooks[0].__name__ == "alert_on_failure"


@pytest.mark.flow
def test_schedule_and_storage_root_are_configurable(deployments, prefect_harness):
    settings = load_settings(
        env={"PRODUKTIVITAS_SCHEDULE_CRON": "30 6 1 * *", "PRODUKTIVITAS_SCHEDULE_TIMEZONE": "Asia/Jakarta"}
    )
    dep = deployments.build_deployment(settings, storage_root="s3://bucket/produktivitas")
    sched = _only_schedule(dep)
    assert (sched.cron, sched.timezone) == ("30 6 1 * *", "Asia/Jakarta")
    assert dep.parameters["storage_root"] == "s3://bucket/produktivitas"


def test_cron_fires_at_0700_wita_on_the_5th():
    """What the server will schedule: 07:00 WITA (23:00 UTC the day before), on the 5th."""
    from prefect.server.schemas.schedules import CronSchedule

    sched = CronSchedule(cron="0 7 5 * *", timezone="Asia/Makassar")
    import asyncio

    dates = asyncio.run(sched.get_dates(n=3, start=datetime(2025, 8, 10, tzinfo=UTC)))
    assert [d.astimezone(UTC).isoformat() for d in dates] == [
        "2025-09-04T23:00:00+00:00",
        "2025-10-04T23:00:00+00:00",
        "2025-11-04T23:00:00+00:00",
    ]
    assert resolve_period("previous", now=dates[0]) == "2025-08"


def test_prefect_yaml_matches_the_code_deployment():
    from flows.runtime import WITA

    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    assert doc["prefect-version"].startswith("3.9")
    pull = doc["pull"][0]["prefect.deployments.steps.set_working_directory"]
    assert pull["directory"]
    (dep,) = doc["deployments"]
    defaults = load_settings(env={})
    assert dep["name"] == "monthly"
    assert dep["entrypoint"] == "flows/deployments.py:scheduled_monthly_flow"
    assert dep["work_pool"]["name"] == "produktivitas-pool"
    assert dep["parameters"] == {"period": "previous", "deliver": True}
    (sched,) = dep["schedules"]
    assert sched["cron"] == defaults.schedule_cron == "0 7 5 * *"
    assert sched["timezone"] == defaults.schedule_timezone == WITA
    # the entrypoint file and object exist where the yaml says
    path, obj = dep["entrypoint"].split(":")
    assert f"\n{obj} = " in (ROOT / path).read_text()
