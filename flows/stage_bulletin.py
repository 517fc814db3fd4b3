"""The bulletin stage: render the period's bulletin, company reports and archive, then deliver them.

Reads only the Parquet outputs of the earlier stages, so it can be re-run alone
(``produktivitas bulletin --period 2025-08``). Delivery goes over SMTP when ``smtp_host`` is set,
otherwise to ``processed/outbox/`` as .eml; the ledger keeps a re-run from sending twice.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.settings import Settings
from tasks import formatting as F
from tasks.bulletin import period_messages, produce_period
from tasks.logs import get_logger
from tasks.mailer import Outgoing, Recipient, SmtpConfig, deliver, read_recipients
from tasks.storage import Storage

WITA = ZoneInfo("Asia/Makassar")


@task(name="render-bulletin", cache_policy=NO_CACHE)
def render_task(
    storage_root: str,
    period: str,
    lang: str,
    recipients: list[Recipient],
    workers: int,
    layout: str = "auto",
) -> dict[str, Any]:
    today = datetime.now(WITA).date()
    return produce_period(Storage(storage_root), period, lang, today, recipients, workers, layout)


@task(name="deliver-messages", cache_policy=NO_CACHE)
def deliver_task(
    storage_root: str,
    period: str,
    lang: str,
    release_date: str,
    bulletin_messages: list[Outgoing],
    sender: str,
    smtp: SmtpConfig | None,
) -> dict[str, Any]:
    # Company reports' messages are built one at a time inside the delivery: a national month has
    # 10^5 of them, which held at once took gigabytes.
    storage = Storage(storage_root)
    messages = period_messages(storage, period, lang, release_date, bulletin_messages)
    return deliver(storage, period, messages, sender, smtp)


def smtp_from_settings(settings: Settings) -> SmtpConfig | None:
    if not settings.smtp_host:
        return None
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        user=settings.smtp_user,
        password=settings.smtp_password,
    )


def load_recipients(path: str) -> tuple[list[Recipient], list[str]]:
    p = Path(path)
    if not path or not p.exists():
        return [], [f"Daftar penerima {path or '(kosong)'} tidak ditemukan; buletin tidak dikirim ke siapa pun. "
                    "Salin config/recipients.example.csv ke config/recipients.csv dan isi alamatnya."]  # fmt: skip
    return read_recipients(p.read_text(encoding="utf-8")), []


@flow(name="bulletin-stage", flow_run_name="bulletin-{period}")
def bulletin_stage(
    settings: Settings,
    storage_root: str,
    period: str,
    run_id: str,
    deliver: bool = True,
    lang: str | None = None,
) -> dict[str, Any]:
    """Render bulletin + company reports, update the archive, deliver (SMTP or outbox)."""
    log = get_logger()
    lang = F.check_lang(lang or settings.language)
    recipients, notices = load_recipients(settings.recipients_file)
    rendered = render_task(
        storage_root, period, lang, recipients, settings.workers_effective, settings.company_documents
    )
    counts: dict[str, int] = dict(rendered["counts"])
    notices += rendered["notices"]
    if deliver:
        smtp = smtp_from_settings(settings)
        if smtp is None:
            notices.append(
                f"SMTP belum diatur; pesan periode {period} ditulis ke processed/outbox/ sebagai berkas .eml."
            )
        res = deliver_task(
            storage_root,
            period,
            lang,
            rendered["release_date"],
            rendered["messages"],
            settings.smtp_sender,
            smtp,
        )
        counts.update({f"mail_{k}": v for k, v in res["counts"].items()})
        notices += res["notices"]
    log.info("bulletin %s (%s): %s", period, lang, counts)
    return {
        "counts": counts,
        "outputs": rendered["outputs"],
        "notices": notices,
        "diagnostics": rendered["diagnostics"] + [f"run {run_id}"],
        "tables": {},
    }
