"""Run-time settings that only remove idle time: stage subflows without heartbeats, no GC at exit."""

from __future__ import annotations

import gc

import pytest

from flows import cli
from flows.runtime import inline_stage_settings


def test_stage_subflows_run_without_heartbeats_of_their_own() -> None:
    from prefect.settings import get_current_settings

    before = get_current_settings().flows.heartbeat_frequency
    url = get_current_settings().api.url
    assert before is not None  # the monthly flow itself keeps its heartbeats
    with inline_stage_settings():
        assert get_current_settings().flows.heartbeat_frequency is None
        assert get_current_settings().api.url == url  # everything else as before
    assert get_current_settings().flows.heartbeat_frequency == before


@pytest.mark.parametrize("code", [0, 2])
def test_cli_freezes_the_collector_when_a_command_ends(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    frozen: list[bool] = []

    def command(prog_name: str) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(cli, "_COMMAND_MODULES", ())
    monkeypatch.setattr(cli, "app", command)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == code and frozen == [True]
