"""Resilience: BPS down → the run completes on the snapshot and says so; cache keys and alerts keep secrets out."""

from __future__ import annotations

import json
import socket
from email import message_from_bytes
from pathlib import Path

import pytest

from flows.runtime import (
    COMPUTE_TASK_OPTIONS,
    NETWORK_TASK_OPTIONS,
    alert_on_failure,
    bps_fetch_cache_options,
    flow_run_url,
)
from tasks.alerts import ALERT_OUTBOX, build_alert, deliver_alert
from tasks.mailer import SmtpConfig
from tasks.secrets import Secret
from tasks.storage import Storage
from tests import bps_server as bps_fixtures

bps_server = bps_fixtures.bps_server
TEST_KEY = bps_fixtures.TEST_KEY
SECRET = "s3cr3t-api-key-value-0042"


def all_text_under(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file())


# --- retry and cache policy ------------------------------------------------------------------------
def test_retry_policy_by_kind():
    assert NETWORK_TASK_OPTIONS["retries"] >= 2
    delays = NETWORK_TASK_OPTIONS["retry_delay_seconds"]
    assert len(delays) == NETWORK_TASK_OPTIONS["retries"] and delays == sorted(delays)  # back-off grows
    assert COMPUTE_TASK_OPTIONS["retries"] == 0


def test_bps_cache_key_ignores_the_api_key_and_never_contains_it():
    from datetime import timedelta

    from prefect.cache_policies import INPUTS, CompoundCachePolicy, Inputs

    opts = bps_fetch_cache_options()
    assert opts["cache_expiration"] == timedelta(days=1) and opts["persist_result"] is True
    policy = opts["cache_policy"]
    assert isinstance(policy, CompoundCachePolicy)
    (inputs,) = [p for p in policy.policies if isinstance(p, Inputs)]
    assert "api_key" in inputs.exclude

    def key(policy, api_key, years):
        args = {"base_url": "http://x/", "api_key": api_key, "var": 533, "years": years}
        return policy.compute_key(task_ctx=None, inputs=args, flow_parameters={})

    k1 = key(inputs, Secret(SECRET), [2023, 2024])
    assert k1 == key(inputs, Secret("another-key"), [2023, 2024])  # whose key fetched does not matter
    assert k1 != key(inputs, Secret(SECRET), [2024])
    # Even plain INPUTS (a Secret hashed via cloudpickle + md5) yields only a digest.
    plain = key(INPUTS, Secret(SECRET), [2024])
    assert SECRET not in plain and len(plain) == 32


# --- the failure alert -----------------------------------------------------------------------------
def test_alert_redacts_secrets_and_links_the_run(tmp_path):
    msg = build_alert(
        sender="Pipeline <p@x.invalid>",
        to="engineer@example.org",
        flow_name="produktivitas-monthly",
        flow_run_name="monthly-2025-08",
        flow_run_id="1234",
        parameters={"period": "2025-08", "api_key": SECRET},
        state_name="Failed",
        error=f"HTTPError: 500 for https://webapi.bps.go.id/v1/api/list/key/{SECRET}/ token={SECRET}",
        run_url=flow_run_url("http://prefect.local:4200/", "1234"),
        secrets=(Secret(SECRET),),
    )
    text = msg.as_string()
    assert SECRET not in text
    assert "http://prefect.local:4200/runs/flow-run/1234" in text
    assert "produktivitas run --period 2025-08" in text
    assert msg["Subject"] == "[produktivitas] run monthly-2025-08 Failed"
    where = deliver_alert(msg, Storage(tmp_path), smtp=None)
    (eml,) = (tmp_path / ALERT_OUTBOX).glob("*.eml")
    assert str(eml) in where and SECRET not in eml.read_text()


def test_alert_sent_over_smtp(tmp_path):
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
            received.append(envelope.content)
            return "250 OK"

    with socket.socket() as probe:  # a free port (aiosmtpd cannot start on port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        msg = build_alert(
            sender="p@x.org", to="engineer@example.org", flow_name="f", flow_run_name="r", flow_run_id="9",
            parameters={"period": "2025-08"}, state_name="Failed", error="boom",
        )  # fmt: skip
        where = deliver_alert(
            msg, Storage(tmp_path), SmtpConfig(host="127.0.0.1", port=port, security="none")
        )
    finally:
        ctl.stop()
    assert where == "sent to engineer@example.org"
    assert len(received) == 1 and b"boom" in received[0]
    assert not (tmp_path / ALERT_OUTBOX).exists()


def test_alert_falls_back_to_outbox_when_smtp_is_down(tmp_path):
    msg = build_alert(
        sender="p@x.org", to="engineer@example.org", flow_name="f", flow_run_name="r", flow_run_id="9",
        parameters={}, state_name="Failed", error="boom",
    )  # fmt: skip
    smtp = SmtpConfig(host="127.0.0.1", port=1, security="none", timeout=2, password=Secret(SECRET))
    where = deliver_alert(msg, Storage(tmp_path), smtp)
    assert "SMTP failed" in where and SECRET not in where
    assert len(list((tmp_path / ALERT_OUTBOX).glob("*.eml"))) == 1


@pytest.mark.flow
def test_failed_flow_writes_alert_with_run_link_and_no_secret(prefect_harness, tmp_path, monkeypatch):
    from prefect import flow

    monkeypatch.setenv("BPS_API_KEY", SECRET)
    monkeypatch.setenv("PRODUKTIVITAS_ALERT_EMAIL", "engineer@example.org")
    monkeypatch.setenv("PRODUKTIVITAS_PREFECT_UI_URL", "http://prefect.local:4200")
    monkeypatch.delenv("PRODUKTIVITAS_SMTP_HOST", raising=False)

    @flow(name="alert-test", on_failure=[alert_on_failure])
    def failing(period: str, storage_root: str) -> None:
        raise RuntimeError(f"could not read raw/bps with key {SECRET}")

    state = failing(period="2025-08", storage_root=str(tmp_path), return_state=True)
    assert state.is_failed()
    (eml,) = (tmp_path / ALERT_OUTBOX).glob("*.eml")
    msg = message_from_bytes(eml.read_bytes())
    body = msg.get_payload(decode=True).decode()
    assert SECRET not in eml.read_text()
    assert "RuntimeError: could not read raw/bps with key ***" in body
    run_id = msg["X-Produktivitas-Flow-Run"]
    assert f"http://prefect.local:4200/runs/flow-run/{run_id}" in body
    assert msg["To"] == "engineer@example.org" and "period=2025-08" in body


# --- BPS down: the run completes on the snapshot -----------------------------------------------------
@pytest.mark.flow
@pytest.mark.slow
def test_bps_503_everywhere_run_completes_on_snapshot(prefect_harness, data_root, bps_server, monkeypatch):
    from flows.monthly import monthly_flow

    bps_server.mode = "down"
    monkeypatch.setenv("BPS_API_KEY", TEST_KEY)
    monkeypatch.setenv("PRODUKTIVITAS_BPS_BASE_URL", bps_server.base_url)
    monkeypatch.setenv("PRODUKTIVITAS_BPS_RETRIES", "1")
    monkeypatch.setenv("PRODUKTIVITAS_BPS_BACKOFF_SECONDS", "0.01")
    monkeypatch.setenv("PRODUKTIVITAS_BPS_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("PRODUKTIVITAS_BPS_OFFLINE", "false")

    state = monthly_flow(period="2025-08", storage_root=str(data_root), deliver=False, return_state=True)
    assert state.is_completed()
    summary = state.result()
    assert bps_server.requests, "the flow never tried the (down) WebAPI"
    bps = summary["stages"]["bps"]
    assert not bps.get("fatal")
    assert bps["data_source"].startswith("snapshot")
    assert any("WebAPI gagal" in n and "tersimpan" in n for n in summary["notices"])
    record = json.loads((data_root / "processed" / "runs" / f"{summary['run_id']}.json").read_text())
    assert any("WebAPI gagal" in n for n in record["notices"])
    assert any(i["source"].startswith("snapshot") for i in record["facts"]["inputs"])
    assert (data_root / "processed/indicators/provincial_productivity.parquet").exists()
    assert TEST_KEY not in all_text_under(data_root)
