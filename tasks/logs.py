"""Logging through Prefect's run logger when inside a run, the standard logger otherwise."""

from __future__ import annotations

import logging


def get_logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        from prefect.context import FlowRunContext, TaskRunContext
        from prefect.logging import get_run_logger

        if TaskRunContext.get() or FlowRunContext.get():
            return get_run_logger()
    except ImportError:  # pragma: no cover - prefect is a hard dependency
        pass
    return logging.getLogger("produktivitas")
