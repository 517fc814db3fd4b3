"""E-mail over a real SMTP server (aiosmtpd on 127.0.0.1), the delivery ledger and the outbox."""

from __future__ import annotations

import email
import smtplib
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from tasks import delivery_ledger as L
from tasks.mailer import Outgoing, SmtpConfig, build_message, deliver, inline_css, read_recipients
from tasks.secrets import Secret
from tasks.storage import Storage

PERIOD = "2025-08"
SENDER = "Disnakertrans Kaltim <produktivitas@disnakertrans.kaltimprov.invalid>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


class Sink:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_server():
    sink = Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=_free_port())
    ctl.start()
    try:
        yield ctl, sink
    finally:
        ctl.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bulletin_msg(to: str = "kepala@disnakertrans.invalid") -> Outgoing:
    html = inline_css(
        "<html><head><style>p{color:#c0392b}</style></head><body><p>Ringkasan</p>"
        '<img src="cid:gambar-provinsi@produktivitas"><img src="cid:gambar-tren@produktivitas"></body></html>'
    )
    return Outgoing(
        kind="bulletin",
        recipient=to,
        recipient_name="Kepala Dinas",
        subject="Buletin Produktivitas Tenaga Kerja Kalimantan Timur — Agustus 2025",
        text="Ringkasan\n- Produktivitas ... Rp288,81 juta per pekerja",
        html=html,
        images={"gambar-provinsi@produktivitas": PNG, "gambar-tren@produktivitas": PNG + b"1"},
        attachments=[("buletin-produktivitas-kaltim-2025-08.html", b"<html>lengkap</html>", "text/html")],
    )


def test_css_is_inlined():
    html = _bulletin_msg().html
    assert "<style" not in html and 'style="color: #c0392b' in html.replace("color:#", "color: #")


def test_sent_through_real_smtp_and_parsed(tmp_path, smtp_server):
    ctl, sink = smtp_server
    st = Storage(tmp_path / "data")
    cfg = SmtpConfig(host="127.0.0.1", port=ctl.port, security="none", retries=0)
    res = deliver(st, PERIOD, [_bulletin_msg()], SENDER, cfg)
    assert res["counts"]["sent"] == 1 and len(sink.messages) == 1
    msg = email.message_from_bytes(sink.messages[0], policy=policy.default)
    assert msg.get_content_type() == "multipart/mixed"
    assert msg["Subject"].endswith("Agustus 2025")
    alt = next(p for p in msg.walk() if p.get_content_type() == "multipart/alternative")
    related = next(p for p in alt.walk() if p.get_content_type() == "multipart/related")
    text = alt.get_body(("plain",)).get_content()
    html = related.get_body(("html",)).get_content()
    assert "Rp288,81 juta" in text
    images = {p["Content-ID"].strip("<>"): p for p in related.walk() if p.get_content_maintype() == "image"}
    cids = set(__import__("re").findall(r'src="cid:([^"]+)"', html))
    assert cids and cids <= set(images)  # every cid: reference resolves to an attached image
    assert all(images[c].get_content_type() == "image/png" for c in cids)
    att = [
        p for p in msg.iter_attachments() if p.get_filename() == "buletin-produktivitas-kaltim-2025-08.html"
    ]
    assert len(att) == 1 and "lengkap" in att[0].get_content()
    # the ledger says sent, and a re-run sends nothing new
    entries = L.read_ledger(st)
    assert [e["status"] for e in entries] == [L.SENT]
    assert entries[0]["message_id"] == msg["Message-ID"]
    again = deliver(st, PERIOD, [_bulletin_msg()], SENDER, cfg)
    assert again["counts"] == {"sent": 0, "outbox": 0, "failed": 0, "skipped": 1}
    assert len(sink.messages) == 1


def test_failure_stays_in_outbox_run_continues_then_retried(tmp_path, smtp_server):
    ctl, sink = smtp_server
    st = Storage(tmp_path / "data")
    sleeps: list[float] = []
    dead = SmtpConfig(host="127.0.0.1", port=_free_port(), security="none", retries=2, backoff_seconds=0.5)
    msgs = [_bulletin_msg("a@x.invalid"), _bulletin_msg("b@x.invalid")]
    res = deliver(st, PERIOD, msgs, SENDER, dead, sleep=sleeps.append)
    assert res["counts"]["failed"] == 2  # both tried: one failure does not stop the others
    assert sleeps == [0.5, 1.0, 0.5, 1.0]  # back-off on a transient (connection) error
    outbox = st.walk_files("processed/outbox", "*.eml")
    assert len(outbox) == 2
    assert all("gagal dikirim" in n for n in res["notices"])
    # next run with a working server sends them and empties the outbox
    ok = SmtpConfig(host="127.0.0.1", port=ctl.port, security="none", retries=0)
    res2 = deliver(st, PERIOD, msgs, SENDER, ok)
    assert res2["counts"]["sent"] == 2 and len(sink.messages) == 2
    assert st.walk_files("processed/outbox", "*.eml") == []


def test_permanent_error_not_retried_and_password_never_leaks(tmp_path):
    st = Storage(tmp_path / "data")
    pw = Secret("s3cr3t-pa55")
    calls = []

    def refuse(msg, cfg):
        calls.append(1)
        raise smtplib.SMTPAuthenticationError(535, b"bad credentials for s3cr3t-pa55")

    cfg = SmtpConfig(host="smtp.invalid", user="u", password=pw, retries=3)
    res = deliver(st, PERIOD, [_bulletin_msg()], SENDER, cfg, sleep=lambda s: None, send=refuse)
    assert len(calls) == 1 and res["counts"]["failed"] == 1
    ledger = st.read_text(L.LEDGER)
    assert "s3cr3t-pa55" not in ledger and "s3cr3t-pa55" not in " ".join(res["notices"])
    assert "***" in ledger


def test_no_smtp_writes_eml_to_outbox_once(tmp_path):
    st = Storage(tmp_path / "data")
    res = deliver(st, PERIOD, [_bulletin_msg()], SENDER, None)
    assert res["counts"]["outbox"] == 1
    (eml,) = st.walk_files("processed/outbox", "*.eml")
    parsed = email.message_from_bytes(st.read_bytes(eml), policy=policy.default)
    assert parsed["To"] == "Kepala Dinas <kepala@disnakertrans.invalid>"
    assert L.read_ledger(st)[0]["status"] == "written to outbox"
    assert deliver(st, PERIOD, [_bulletin_msg()], SENDER, None)["counts"]["skipped"] == 1
    assert len(L.read_ledger(st)) == 1


def test_recipients_csv_and_message_structure():
    with open("config/recipients.example.csv", encoding="utf-8") as fh:
        rec = read_recipients(fh.read())
    assert rec and all(r.email.endswith(".invalid") for r in rec)
    assert {r.language for r in rec} == {"id", "en"}
    msg = build_message(_bulletin_msg(), SENDER)
    assert msg.get_content_type() == "multipart/mixed"
    assert not msg.defects


def _ledger_writes(st: Storage, monkeypatch) -> list[int]:
    """Count the rewrites of the ledger file."""
    writes: list[int] = []
    real = st.write_text

    def spy(rel, text, encoding="utf-8"):
        if rel == L.LEDGER:
            writes.append(text.count("\n"))
        real(rel, text, encoding)

    monkeypatch.setattr(st, "write_text", spy)
    return writes


def test_outbox_ledger_read_once_written_once_per_run(tmp_path, monkeypatch):
    st = Storage(tmp_path / "data")
    writes = _ledger_writes(st, monkeypatch)
    msgs = [_bulletin_msg(f"r{i}@x.invalid") for i in range(30)]
    assert deliver(st, PERIOD, msgs, SENDER, None)["counts"]["outbox"] == 30
    assert writes == [30]  # one append of 30 lines, not 30 rewrites of a growing file
    assert len(st.walk_files("processed/outbox", "*.eml")) == 30
    # the re-run skips all (recipients compared case-insensitively) and writes nothing
    again = [_bulletin_msg(f"R{i}@X.invalid") for i in range(30)] + [_bulletin_msg("baru@x.invalid")]
    res = deliver(st, PERIOD, again, SENDER, None)
    assert res["counts"] == {"sent": 0, "outbox": 1, "failed": 0, "skipped": 30}
    assert writes == [30, 31]
    assert [e["recipient"] for e in L.read_ledger(st)][-1] == "baru@x.invalid"


def test_smtp_ledger_flushed_in_batches_and_on_interruption(tmp_path, monkeypatch):
    import tasks.mailer as mailer

    monkeypatch.setattr(mailer, "LEDGER_FLUSH_EVERY", 2)
    st = Storage(tmp_path / "data")
    writes = _ledger_writes(st, monkeypatch)
    sent: list[str] = []

    def send(msg, cfg):
        if len(sent) == 5:
            raise KeyboardInterrupt  # the run is stopped mid-way
        sent.append(msg["To"])

    cfg = SmtpConfig(host="smtp.invalid", retries=0)
    msgs = [_bulletin_msg(f"r{i}@x.invalid") for i in range(8)]
    with pytest.raises(KeyboardInterrupt):
        deliver(st, PERIOD, msgs, SENDER, cfg, send=send)
    assert writes == [2, 4, 5]  # every 2 messages, and what was sent before the interruption
    assert [e["status"] for e in L.read_ledger(st)] == [L.SENT] * 5
    # the next run sends only the three that were not sent
    sent.clear()
    res = deliver(st, PERIOD, msgs, SENDER, cfg, send=lambda m, c: sent.append(m["To"]))
    assert res["counts"]["skipped"] == 5 and res["counts"]["sent"] == 3 and len(sent) == 3
