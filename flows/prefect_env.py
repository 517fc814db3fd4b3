"""Prefect's environment, set before ``prefect`` is imported.

Prefect's home (SQLite DB, results) stays inside the project (``.prefect/``, git-ignored), the
ephemeral server gets enough time for its first start on a fresh machine (DB migrations take
~35 s on 2 cores, longer than Prefect's default timeout), and telemetry is off.
"""

from __future__ import annotations

import os

from flows.settings import PROJECT_ROOT

DEFAULTS = {
    "PREFECT_HOME": str(PROJECT_ROOT / ".prefect"),
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_TASKS_DEFAULT_NO_CACHE": "true",
    "GX_ANALYTICS_ENABLED": "false",
}


def configure() -> None:
    for k, v in DEFAULTS.items():
        os.environ.setdefault(k, v)
