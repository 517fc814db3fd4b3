"""Quarantine and receipts: the row-count invariant on the bundled period and on a folder of bad inputs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from flows import stage_submissions as st
from tasks import quarantine as qt
from tasks import receipts as rc
from tasks import submission_validate as sv
from tasks.parquet_io import file_metadata, read_frame
from tasks.sample_data import bulk_csv_bytes, generate_frame
from tasks.storage import Storage

PERIOD = "2025-08"


def process(root: Path, period: str = PERIOD) -> tuple[qt.Outcome, list[str]]:
    """The stage's steps without Prefect or GX (the flow test covers those)."""
    read = st.read_task.fn(str(root), period)
    res = sv.validate_rows(read.rows, period, cell_errors=read.cell_errors, use_gx=False)
    outcome = st.resolve_and_assemble(res, read.file_errors, period)
    sha = {f.file: f.sha256 for f in read.files}
    outs = st.write_task.fn(str(root), outcome, sha, {}, {"run_id": "t"})
    outs.append(st.receipts_task.fn(str(root), outcome, sha, 1)["folder"])
    assert outcome.rows_read == sum(f.rows_read for f in read.files) == len(read.rows)
    return outcome, outs


def test_bundled_period_invariant_and_outputs(data_root):
    o, outs = process(data_root)
    c = o.counts
    assert c["rows_read"] == c["accepted"] + c["quarantined"] == 22
    assert (c["accepted"], c["quarantined"], c["files_unreadable"], c["superseded"]) == (18, 4, 2, 1)
    storage = Storage(data_root)
    acc = read_frame(storage, "processed/submissions/period=2025-08/part-0.parquet")
    assert len(acc) == 18 and acc["nib"].is_unique
    assert acc["source_file"].notna().all() and (acc["source_row"] >= 2).all()
    assert set(acc["pdrb_group"]) <= {"A", "B", "C", "F", "G", "H", "I", "J", "M-N", "Q"}
    assert file_metadata(storage, "processed/submissions/period=2025-08/part-0.parquet")["schema_name"] == (
        "submission_accepted"
    )
    q = read_frame(storage, "processed/quarantine/period=2025-08/rows.parquet")
    assert (q["kind"] == "row").sum() == 4 and (q["kind"] == "file").sum() == 2
    reasons = set(q["reason_codes"].str.split(";").explode())
    assert {"not_a_number", "invalid_kabkota", "workers_sum_mismatch", "superseded", "corrupt_xlsx",
            "missing_columns"} <= reasons  # fmt: skip
    sup = q[q["reason_codes"] == "superseded"].iloc[0]
    assert "_revisi.xlsx baris 2" in sup["reasons_id"]
    summary = (data_root / "processed/quarantine/period=2025-08/summary.md").read_text(encoding="utf-8")
    assert "Baris dibaca: 22; diterima: 18; dikarantina: 4" in summary
    # 21 companies with rows (18 accepted, 3 rejected) + 2 files not linked to a NIB
    receipts = sorted((data_root / "processed/receipts/period=2025-08").glob("*.html"))
    assert len(receipts) == 23
    assert Storage(data_root).url("processed/receipts/period=2025-08") + "/" in outs


def test_receipts_on_two_worker_processes_equal_the_serial_ones(data_root, monkeypatch):
    import tasks.process_pool as pp

    outcome, _ = process(data_root)
    st_ = Storage(data_root)
    folder = f"{rc.RECEIPTS_DATASET}/period={PERIOD}"
    rc.write_receipts(st_, outcome, {}, workers=1)
    serial = {n: st_.read_text(f"{folder}/{n}") for n in st_.listdir(folder) if n.endswith(".html")}
    serial_texts = rc.read_texts(st_, PERIOD)
    monkeypatch.setattr(rc, "RECEIPT_BATCH", 5)  # 23 receipts -> 5 batches over 2 processes
    monkeypatch.setattr(rc, "POOL_MIN_RECEIPTS", 1)
    started: list[int] = []
    real_start = pp._start
    monkeypatch.setattr(pp, "_start", lambda n: started.append(n) or real_start(n))
    written = rc.write_receipts(st_, outcome, {}, workers=2)
    assert started == [2] and written["files"] == len(serial) + 1 == 24
    assert {n: st_.read_text(f"{folder}/{n}") for n in st_.listdir(folder) if n.endswith(".html")} == serial
    assert rc.read_texts(st_, PERIOD) == serial_texts


def test_store_layout_keeps_every_receipt_in_the_parquet_only(data_root):
    """A period kept as a store (national scale, or forced) has the same receipts, without a file each."""
    from tasks.documents import read_document

    outcome, _ = process(data_root)
    st_ = Storage(data_root)
    folder = f"{rc.RECEIPTS_DATASET}/period={PERIOD}"
    rc.write_receipts(st_, outcome, {}, layout="files")
    as_files = {n[:-5]: st_.read_text(f"{folder}/{n}") for n in st_.listdir(folder) if n.endswith(".html")}
    texts = rc.read_texts(st_, PERIOD)
    written = rc.write_receipts(st_, outcome, {}, layout="store")
    assert st_.listdir(folder) == [rc.TEXTS_FILE]  # the re-run's swap removed the earlier layout's files
    assert written == {
        "folder": st_.url(folder) + "/",
        "files": 1,
        "receipts": len(as_files),
        "layout": "store",
    }
    assert rc.read_texts(st_, PERIOD) == texts
    stored = {k: read_document(st_, f"{folder}/{rc.TEXTS_FILE}", "receipt", k) for k in as_files}
    assert stored == as_files and len(stored) == 23


def test_document_layout_follows_the_setting_and_the_period_size():
    from tasks.documents import STORE_MIN_DOCUMENTS, document_layout

    assert document_layout("auto", 23) == "files"
    assert document_layout("auto", STORE_MIN_DOCUMENTS) == "store"
    assert document_layout("files", 10**5) == "files" and document_layout("store", 1) == "store"
    with pytest.raises(ValueError, match="company_documents must be one of auto, files, store"):
        document_layout("zip", 1)


def test_receipt_content_for_a_rejected_company(data_root):
    process(data_root)
    rdir = data_root / "processed/receipts/period=2025-08"
    # The company whose categories do not add up (planted in the bulk CSV).
    assert not list(rdir.glob("*.txt"))  # plain texts live in receipts.parquet, not a file per company
    txt = rc.read_texts(Storage(data_root), PERIOD)["9982369706696"]
    assert "DITERIMA (0 baris)" in txt and "DITOLAK (1)" in txt
    assert "tidak sama dengan total" in txt and "ekspor_gabungan_01_SINTETIS.csv baris" in txt
    assert "DATA SINTETIS" in txt
    unlinked = sorted(p.name for p in rdir.glob("berkas-*.html"))
    assert len(unlinked) == 2 and all(n.count("-") >= 2 for n in unlinked)
    html = (rdir / unlinked[0]).read_text(encoding="utf-8")
    assert "seluruh berkas" in html and "<script" not in html


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * 30_000_000)
    return buf.getvalue()


def test_folder_of_bad_inputs_quarantines_each_and_processes_the_rest(tmp_path):
    folder = tmp_path / "raw/submissions" / PERIOD
    folder.mkdir(parents=True)
    good = generate_frame(PERIOD, 3, 21)
    evil = good.iloc[[0]].copy()
    evil["nib"] = "9911111111111"
    evil["company_name"] = '=HYPERLINK("http://evil.example","klik")'
    evil["kabkota_code"] = "@SUM(1+1)"
    (folder / "baik.csv").write_bytes(bulk_csv_bytes(good))
    (folder / "injeksi.csv").write_bytes(bulk_csv_bytes(evil))
    (folder / "kosong.csv").write_bytes(b"")
    (folder / "acak.csv").write_bytes(bytes(range(256)) * 40)
    (folder / "palsu.xlsx").write_bytes(b"ini bukan excel")
    (folder / "bom.xlsx").write_bytes(_zip_bomb())
    (folder / "catatan.pdf").write_bytes(b"%PDF-1.4")
    o, _ = process(tmp_path)
    c = o.counts
    assert c["rows_read"] == 4 == c["accepted"] + c["quarantined"]
    assert (c["accepted"], c["quarantined"]) == (3, 1)
    files = o.quarantine_rows[o.quarantine_rows["kind"] == "file"]
    assert sorted(files["source_file"]) == ["acak.csv", "bom.xlsx", "catatan.pdf", "kosong.csv", "palsu.xlsx"]
    codes = dict(zip(files["source_file"], files["reason_codes"], strict=True))
    assert codes["bom.xlsx"] == "zip_bomb" and codes["kosong.csv"] == "empty_file"
    assert files["reasons_id"].str.len().gt(20).all()
    csv = (tmp_path / "processed/quarantine/period=2025-08/quarantine.csv").read_text(encoding="utf-8")
    assert "'@SUM(1+1)" in csv and "\n@SUM" not in csv and ",@SUM" not in csv
    df = pd.read_csv(io.StringIO(csv), dtype=str)
    text_cols = ["source_file", "column", "value", "reason_id", "reason_en"]
    assert not df[text_cols].fillna("").apply(lambda s: s.str.match(r"^[=+\-@]")).any().any()
    html = next((tmp_path / "processed/receipts/period=2025-08").glob("9911111111111.html")).read_text()
    assert "&#34;http://evil.example&#34;" in html or "&quot;http://evil.example&quot;" in html


def test_empty_month_writes_empty_outputs(tmp_path):
    (tmp_path / "raw/submissions").mkdir(parents=True)
    o, outs = process(tmp_path)
    assert o.counts["rows_read"] == 0 and o.counts["accepted"] == 0
    acc = read_frame(Storage(tmp_path), "processed/submissions/period=2025-08/part-0.parquet")
    assert len(acc) == 0 and "flag_negative_va" in acc.columns
    assert "Tidak ada baris" in (tmp_path / "processed/quarantine/period=2025-08/summary.md").read_text()
    assert st._notices(o, 0, PERIOD)[0].startswith("Tidak ada kiriman perusahaan untuk periode 2025-08")


def test_invariant_is_enforced_in_code():
    frame = pd.DataFrame({sv.ROW_ID: [0, 1], "nib": ["1", "2"]})
    failures = pd.DataFrame(columns=sv.FAILURE_COLUMNS)
    with pytest.raises(Exception):  # noqa: B017 - accepted schema columns missing or invariant: both loud
        qt.assemble(frame, failures, pd.DataFrame(columns=["severity"]), PERIOD)


def test_safe_receipt_names():
    n = rc.safe_name("../../etc/passwd <x>.csv", "abcdef0123")
    assert "/" not in n and ".." not in n and n.startswith("berkas-") and n.endswith("-abcdef01")
    assert rc.period_label("2025-08") == "Agustus 2025"


def test_receipts_folder_swapped_in_once_without_fsync_per_file(data_root, monkeypatch):
    import os

    st = Storage(data_root)
    folder = f"{rc.RECEIPTS_DATASET}/period={PERIOD}"
    st.write_text(f"{folder}/9999999999999.txt", "tanda terima lama dari run sebelumnya")
    outcome, outs = process(data_root)
    synced: list[str] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real(fd))
    written = rc.write_receipts(st, outcome, {})
    assert not [p for p in synced if "/receipts/" in p]  # the folder is swapped in, files not fsynced
    pages, texts = rc.render_receipts(outcome, {})
    # exactly this run's receipts: the stale one is gone
    assert st.listdir(folder) == sorted([*pages, rc.TEXTS_FILE])
    assert all(st.read_text(f"{folder}/{n}") == t for n, t in pages.items())
    assert rc.read_texts(st, PERIOD) == texts and sorted(texts) == sorted(n[:-5] for n in pages)
    stored = read_frame(st, f"{folder}/{rc.TEXTS_FILE}")
    assert stored.columns.tolist() == ["receipt", "nib", "text", "html"]
    assert dict(zip(stored["receipt"] + ".html", stored["html"], strict=True)) == pages
    assert written == {"folder": st.url(folder) + "/", "files": len(pages) + 1, "receipts": len(pages),
                       "layout": "files"}  # fmt: skip
    assert not [n for n in st.listdir(rc.RECEIPTS_DATASET) if n.startswith(".")]
