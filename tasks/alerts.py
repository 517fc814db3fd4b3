"""Failure alerts for the data engineer: one e-mail per failed run, or an .eml in the outbox.

The alert names the run, its parameters, the error and a link to the run in the Prefect UI, and
says what to do next. Secret values are redacted from everything that goes into the message.
"""

from __future__ import annotations

import re
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from tasks.mailer import SmtpConfig, send_smtp
from tasks.secrets import Secret, redact
from tasks.storage import Storage

ALERT_OUTBOX = "processed/outbox/alerts"


def build_alert(
    *,
    sender: str,
    to: str,
    flow_name: str,
    flow_run_name: str,
    flow_run_id: str,
    parameters: dict[str, object],
    state_name: str,
    error: str,
    run_url: str = "",
    secrets: tuple[Secret | str | None, ...] = (),
    now: datetime | None = None,
) -> EmailMessage:
    """The alert message (English: it is read by the data engineer, like the logs)."""
    shown = {k: v for k, v in parameters.items() if "key" not in k.lower() and "password" not in k.lower()}
    period = parameters.get("period", "")
    link = run_url or f"(no prefect_ui_url configured; look up flow run {flow_run_id} in the Prefect UI)"
    body = "\n".join(
        [
            f"The produktivitas run {flow_run_name} ({flow_name}) ended {state_name}.",
            "",
            f"Run:        {link}",
            f"Run id:     {flow_run_id}",
            f"Parameters: {', '.join(f'{k}={v}' for k, v in sorted(shown.items())) or '-'}",
            "",
            "Error:",
            error.strip() or "-",
            "",
            "What to do next:",
            "  1. Open the run link above and read the log of the failed task.",
            "  2. Fix the cause (input file, network, storage or settings).",
            f"  3. Re-run the month: produktivitas run --period {period or 'YYYY-MM'}"
            " (a re-run replaces that month's outputs; delivered e-mails are not sent twice).",
            "",
            "-- produktivitas (Disnakertrans Kalimantan Timur)",
        ]
    )
    msg = EmailMessage()
    msg["Subject"] = redact(f"[produktivitas] run {flow_run_name} {state_name}", *secrets)
    msg["From"] = sender
    msg["To"] = to or "data-engineer@localhost.invalid"
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="produktivitas.invalid")
    msg["X-Produktivitas-Flow-Run"] = flow_run_id
    msg.set_content(redact(body, *secrets))
    return msg


def _eml_name(msg: EmailMessage) -> str:
    run = re.sub(r"[^A-Za-z0-9_.-]", "_", str(msg.get("X-Produktivitas-Flow-Run", "run")))
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{run}.eml"


def write_alert(msg: EmailMessage, storage: Storage) -> str:
    rel = f"{ALERT_OUTBOX}/{_eml_name(msg)}"
    storage.write_bytes(rel, msg.as_bytes())
    return storage.url(rel)


def deliver_alert(msg: EmailMessage, storage: Storage, smtp: SmtpConfig | None) -> str:
    """Send over SMTP when configured and addressed; otherwise (or when sending fails) write the .eml.

    Returns where the alert went, for the log.
    """
    if smtp is not None and smtp.host and not str(msg["To"]).endswith(".invalid"):
        try:
            # one attempt: the alert must not hold up the failed run; the .eml is the fallback
            send_smtp(msg, smtp)
            return f"sent to {msg['To']}"
        except (OSError, smtplib.SMTPException) as exc:
            url = write_alert(msg, storage)
            error = redact(str(exc), smtp.password)
            return f"SMTP failed ({type(exc).__name__}: {error}); written to {url}"
    return f"written to {write_alert(msg, storage)}"
