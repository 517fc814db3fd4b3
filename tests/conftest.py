"""Shared fixtures. Prefect's test harness is session-scoped and only started by flow tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from flows import prefect_env

prefect_env.configure()
os.environ.pop("BPS_API_KEY", None)  # tests never reach the real WebAPI
os.environ.pop("PRODUKTIVITAS_CONFIG", None)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server (fresh SQLite) for the whole session; pay its ~20 s start once."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A storage root with the bundled raw inputs (BPS snapshot, sample submissions) and nothing processed."""
    root = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
    (root / "processed").mkdir(parents=True, exist_ok=True)
    return root
