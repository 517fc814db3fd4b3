"""E-mail: multipart messages with CID images, SMTP delivery with retries, and the outbox.

Structure of a bulletin message (what mail clients render reliably)::

    multipart/mixed
    ├── multipart/alternative
    │   ├── text/plain
    │   └── multipart/related
    │       ├── text/html        (CSS inlined with css_inline; charts as <img src="cid:...">)
    │       └── image/png ...    (Content-ID for each chart)
    └── text/html attachment     (the full self-contained bulletin)

(the images belong to the HTML alternative only, so a text-only reader never sees them.)

With no SMTP host the message is written to ``processed/outbox/`` as ``.eml`` and the ledger says
so; when sending fails after the retries it also stays in the outbox, and the run goes on. The
SMTP password is a :class:`~tasks.secrets.Secret` and never reaches a log line or an error.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import posixpath
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from tasks import delivery_ledger as L
from tasks.file_batch import write_file
from tasks.logs import get_logger
from tasks.secrets import Secret, redact
from tasks.storage import Storage

OUTBOX_DIR = "processed/outbox"
LEDGER_FLUSH_EVERY = 200  # SMTP mode: ledger lines written at least this often
MSGID_DOMAIN = "produktivitas.disnakertrans.kaltimprov.invalid"


@dataclass
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    user: str = ""
    password: Secret | None = None
    timeout: float = 30.0
    retries: int = 3
    backoff_seconds: float = 2.0

    def __post_init__(self) -> None:
        if self.security not in ("starttls", "ssl", "none"):
            raise ValueError(f"SMTP security must be starttls, ssl or none, not {self.security!r}")


@dataclass
class Outgoing:
    """One message to build: who, what, and the parts."""

    kind: str  # "bulletin" | "company_report-<nib>" (the ledger and outbox key on it)
    recipient: str
    recipient_name: str
    subject: str
    text: str
    html: str  # CSS already inlined; images referenced as cid:<key>
    images: dict[str, bytes] = field(default_factory=dict)  # content-id (without <>) -> PNG
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)  # (filename, data, mime)

    def content_sha(self) -> str:
        """Hash of what the reader gets (not the date or message id), for the ledger."""
        h = hashlib.sha256()
        for part in (self.subject, self.text, self.html):
            h.update(part.encode())
            h.update(b"\0")
        for k in sorted(self.images):
            h.update(k.encode() + b"\0" + self.images[k])
        for name, data, mime in self.attachments:
            h.update(name.encode() + mime.encode() + data)
        return h.hexdigest()


@dataclass
class Recipient:
    name: str
    email: str
    role: str
    language: str
    kabkota_code: str


def read_recipients(text: str) -> list[Recipient]:
    """Recipients from CSV text (columns name, email, role, language, kabkota_code); blank e-mails skipped."""
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        email = (row.get("email") or "").strip()
        if not email:
            continue
        lang = (row.get("language") or "id").strip().lower() or "id"
        out.append(
            Recipient(
                name=(row.get("name") or "").strip(),
                email=email,
                role=(row.get("role") or "").strip(),
                language=lang if lang in ("id", "en") else "id",
                kabkota_code=(row.get("kabkota_code") or "").strip(),
            )
        )
    return out


def inline_css(html: str) -> str:
    """Move the <style> rules onto the elements (mail clients strip <style> blocks)."""
    import css_inline

    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False).inline(html)


class _MemoHeaders(HeaderRegistry):
    """The header factory with parsed headers memoised by (name, value).

    Parsing a header is the largest cost of building a message (~half of it), and every message
    repeats the same Content-Type, Content-Transfer-Encoding, From and Subject headers. Header
    objects are immutable strings, so one can be shared by many messages.
    """

    MAX = 4096  # unique values (To, Message-ID, boundaries) must not grow it without bound

    def __init__(self) -> None:
        super().__init__()
        self._memo: dict[tuple[str, str], Any] = {}

    def __call__(self, name: str, value: str) -> Any:
        key = (name, value)
        header = self._memo.get(key)
        if header is None:
            header = super().__call__(name, value)
            if len(self._memo) >= self.MAX:
                self._memo.clear()
            self._memo[key] = header
        return header


SMTP_POLICY = policy.SMTP.clone(header_factory=_MemoHeaders())


def build_message(out: Outgoing, sender: str, message_id: str | None = None) -> EmailMessage:
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = sender
    msg["To"] = f"{out.recipient_name} <{out.recipient}>" if out.recipient_name else out.recipient
    msg["Subject"] = out.subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id or make_msgid(domain=MSGID_DOMAIN)
    msg["X-Produktivitas-Kind"] = out.kind
    msg.set_content(out.text)
    msg.add_alternative(out.html, subtype="html")
    html_part = msg.get_payload()[1]
    for cid, png in out.images.items():
        html_part.add_related(
            png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid.split('@')[0]}.png"
        )
    for name, data, mime in out.attachments:
        maintype, subtype = mime.split("/", 1)
        if maintype == "text":
            msg.add_attachment(data.decode("utf-8"), subtype=subtype, filename=name)
        else:
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", s)[:80]


def outbox_rel(period: str, kind: str, recipient: str) -> str:
    return posixpath.join(OUTBOX_DIR, period, f"{kind}-{_safe(recipient)}.eml")


def _transient(exc: BaseException) -> bool:
    """Worth retrying: connection trouble and 4xx answers; 5xx answers are final."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError))


def send_smtp(msg: EmailMessage, cfg: SmtpConfig) -> None:
    ctx = ssl.create_default_context()
    if cfg.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=ctx)
    else:
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    with client as s:
        s.ehlo()
        if cfg.security == "starttls":
            s.starttls(context=ctx)
            s.ehlo()
        if cfg.user:
            s.login(cfg.user, cfg.password.get() if cfg.password else "")
        s.send_message(msg)


def deliver(
    storage: Storage,
    period: str,
    messages: list[Outgoing],
    sender: str,
    smtp: SmtpConfig | None,
    sleep: Callable[[float], None] = time.sleep,
    send: Callable[[EmailMessage, SmtpConfig], None] = send_smtp,
) -> dict[str, Any]:
    """Send (or write to the outbox) every message not yet delivered for ``period``; never raises per message.

    The ledger is read once and appended in one write at the end (in SMTP mode also every
    ``LEDGER_FLUSH_EVERY`` messages, so a killed run re-sends at most that many); outbox files are
    written without an fsync each and flushed to disk once before the ledger says they are there.
    """
    log = get_logger()
    index = L.latest_index(L.read_ledger(storage))
    pending: list[dict[str, Any]] = []
    wrote_outbox = False
    counts = {"sent": 0, "outbox": 0, "failed": 0, "skipped": 0}
    notices: list[str] = []

    def flush() -> None:
        nonlocal wrote_outbox
        if wrote_outbox and storage.is_local:
            os.sync()  # the outbox files reach the disk before the ledger line that points at them
        wrote_outbox = False
        L.append(storage, pending)
        pending.clear()

    try:
        for out in messages:
            prev = L.lookup(index, period, out.kind, out.recipient)
            if prev and prev["status"] in L.DONE:
                counts["skipped"] += 1
                continue
            sha = out.content_sha()
            rel = outbox_rel(period, out.kind, out.recipient)
            msg_id = prev["message_id"] if prev else make_msgid(domain=MSGID_DOMAIN)
            msg = build_message(out, sender, msg_id)
            if smtp is None or not smtp.host:
                write_file(storage, rel, msg.as_bytes())
                wrote_outbox = True
                pending.append(L.entry(period=period, kind=out.kind, recipient=out.recipient, message_id=msg_id,
                                       content_sha=sha, status=L.OUTBOX, outbox_path=rel))  # fmt: skip
                counts["outbox"] += 1
                continue
            error = ""
            for attempt in range(smtp.retries + 1):
                try:
                    send(msg, smtp)
                    error = ""
                    break
                except Exception as exc:  # every failure is recorded; the run continues with the next message
                    error = redact(f"{type(exc).__name__}: {exc}", smtp.password, smtp.user or None)
                    if not _transient(exc) or attempt == smtp.retries:
                        break
                    delay = smtp.backoff_seconds * (2**attempt)
                    log.warning(
                        "SMTP attempt %d for %s failed (%s); retrying in %.1f s",
                        attempt + 1,
                        out.kind,
                        error,
                        delay,
                    )
                    sleep(delay)
            if not error:
                if storage.exists(rel):
                    storage.delete(rel)
                pending.append(L.entry(period=period, kind=out.kind, recipient=out.recipient, message_id=msg_id,
                                       content_sha=sha, status=L.SENT))  # fmt: skip
                counts["sent"] += 1
            else:
                write_file(storage, rel, msg.as_bytes())
                wrote_outbox = True
                pending.append(L.entry(period=period, kind=out.kind, recipient=out.recipient, message_id=msg_id,
                                       content_sha=sha, status=L.FAILED, detail=error, outbox_path=rel))  # fmt: skip
                counts["failed"] += 1
                notices.append(
                    f"Pesan {out.kind} untuk {out.recipient} gagal dikirim ({error}); pesan disimpan di {rel} "
                    "dan akan dicoba lagi pada run berikutnya. Periksa pengaturan SMTP."
                )
                log.warning("could not send %s to %s: %s (kept in %s)", out.kind, out.recipient, error, rel)
            if smtp is not None and smtp.host and len(pending) >= LEDGER_FLUSH_EVERY:
                flush()
    finally:
        # Also when the run is interrupted: what was sent is recorded, so a re-run does not send it twice.
        flush()
    return {"counts": counts, "notices": notices}
