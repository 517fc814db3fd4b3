"""Settings: defaults < TOML file (``produktivitas.toml`` or ``$PRODUKTIVITAS_CONFIG``) < environment.

Environment variables are ``PRODUKTIVITAS_<NAME>`` for every field below (e.g.
``PRODUKTIVITAS_STORAGE_ROOT``), plus the conventional ``BPS_API_KEY`` and ``SMTP_PASSWORD`` for
secrets. Secrets are held in :class:`tasks.secrets.Secret` and never printed.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tasks.secrets import Secret

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_PREFIX = "PRODUKTIVITAS_"
SECRET_ENV = {"bps_api_key": "BPS_API_KEY", "smtp_password": "SMTP_PASSWORD"}


@dataclass
class Settings:
    # where data lives: a path or URL (file://…, s3://bucket/prefix)
    storage_root: str = str(PROJECT_ROOT / "data")
    # BPS WebAPI
    bps_api_key: Secret | None = None
    bps_base_url: str = "https://webapi.bps.go.id/v1/api/"
    bps_timeout_seconds: float = 30.0
    bps_retries: int = 4
    bps_backoff_seconds: float = 1.0
    bps_offline: bool = False
    # company submissions
    umk_table: str = (
        ""  # CSV of minimum wages (kabkota_code, year, umk_idr_per_month); empty = not configured
    )
    deflator_table: str = ""  # CSV of price deflators for real-terms indicators; empty = nominal
    disclosure_p_percent: float = 10.0
    disclosure_min_companies: int = 3
    # bulletin and mail
    language: str = "id"
    recipients_file: str = str(PROJECT_ROOT / "config" / "recipients.example.csv")
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_user: str = ""
    smtp_password: Secret | None = None
    smtp_sender: str = "Disnakertrans Kaltim <produktivitas@disnakertrans.kaltimprov.invalid>"
    alert_email: str = ""  # data engineer alerted when a run fails
    prefect_ui_url: str = ""  # base URL of the Prefect UI, for links in alerts
    # schedule
    schedule_cron: str = "0 7 5 * *"
    schedule_timezone: str = "Asia/Makassar"
    # execution
    task_runner: str = "thread"  # thread | dask
    dask_address: str = ""
    # processes that render per-company files (receipts, reports) of big periods; 0 = the usable cores, max 2
    worker_processes: int = 0
    # receipts and company reports: auto | files | store. All are always in one Parquet per period; "files"
    # adds one HTML file each, "auto" does so below 5,000 companies (tasks/documents.py)
    company_documents: str = "auto"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bps_offline_effective(self) -> bool:
        return self.bps_offline or not self.bps_api_key

    @property
    def workers_effective(self) -> int:
        from tasks.process_pool import default_workers

        return self.worker_processes if self.worker_processes > 0 else default_workers()

    def describe(self) -> dict[str, Any]:
        """Settings as a dict safe to log or write: secrets show only whether they are set."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = ("set" if v else "not set") if f.name in SECRET_ENV else v
        return out


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if name in SECRET_ENV:
        return Secret(str(raw)) if raw not in (None, "") else None
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int) and not isinstance(default, bool):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return str(raw)


def config_file(env: dict[str, str] | None = None) -> Path | None:
    env = dict(os.environ) if env is None else env
    explicit = env.get(ENV_PREFIX + "CONFIG")
    if explicit:
        p = Path(explicit)
        if not p.exists():
            raise FileNotFoundError(
                f"{ENV_PREFIX}CONFIG points to {p}, which does not exist. Create it or unset the variable."
            )
        return p
    p = PROJECT_ROOT / "produktivitas.toml"
    return p if p.exists() else None


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    env = dict(os.environ) if env is None else env
    defaults = Settings()
    values: dict[str, Any] = {}
    path = config_file(env)
    known = {f.name for f in fields(Settings)} - {"extra"}
    extra: dict[str, Any] = {}
    if path is not None:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for k, v in data.items():
            if k in SECRET_ENV:
                raise ValueError(
                    f"{path}: '{k}' is a secret; set it in the environment ({SECRET_ENV[k]}) or a Prefect "
                    "Secret block, not in a file."
                )
            if k in known:
                values[k] = _coerce(k, v, getattr(defaults, k))
            else:
                extra[k] = v
    for name in known:
        env_name = SECRET_ENV.get(name, ENV_PREFIX + name.upper())
        if env_name in env and env[env_name] != "":
            values[name] = _coerce(name, env[env_name], getattr(defaults, name))
    for k, v in overrides.items():
        if v is not None:
            values[k] = _coerce(k, v, getattr(defaults, k)) if k in known else v
    s = dataclasses.replace(defaults, **values)
    s.extra = extra
    if s.company_documents not in ("auto", "files", "store"):
        raise ValueError(f"company_documents must be auto, files or store, not {s.company_documents!r}")
    if s.smtp_security not in ("starttls", "ssl", "none"):
        raise ValueError(f"smtp_security must be starttls, ssl or none, not {s.smtp_security!r}")
    return s
