"""``produktivitas documents``: a company's report and receipt out of the period's Parquet, as HTML files."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from tasks import receipts as rc
from tasks.bulletin import produce_period
from tasks.parquet_io import read_frame
from tasks.storage import Storage
from tests.bulletin_fixtures import write_fixture
from tests.test_cli_bps import _app

PERIOD = "2025-08"


@pytest.fixture
def stored(tmp_path) -> Storage:
    """A period kept as a store: reports in companies/reports.parquet, receipts in receipts.parquet only."""
    storage = write_fixture(tmp_path / "data", PERIOD, script_name=True)
    produce_period(storage, PERIOD, "id", date(2025, 9, 5), [], layout="store")
    nibs = read_frame(storage, f"processed/bulletins/{PERIOD}/companies/reports.parquet")["nib"].tolist()
    texts = {n: f"Tanda terima {n}" for n in nibs} | {"berkas-rusak.xlsx-0123abcd": "Berkas tidak terbaca"}
    table = rc.texts_table(texts, {f"{k}.html": f"<p>tanda terima {k}</p>" for k in texts})
    storage.replace_dir(
        f"{rc.RECEIPTS_DATASET}/period={PERIOD}",
        lambda tmp: storage.write_bytes(f"{tmp}/{rc.TEXTS_FILE}", _parquet(table)),
    )
    return storage


def _parquet(table) -> bytes:
    from tasks.parquet_io import table_bytes

    return table_bytes(table)


def test_one_company_report_and_receipt_written_out(stored, tmp_path):
    nib = read_frame(stored, f"processed/bulletins/{PERIOD}/companies/reports.parquet")["nib"].iloc[2]
    out = tmp_path / "keluar"
    res = CliRunner().invoke(
        _app(),
        ["documents", "--period", PERIOD, "--nib", nib, "--out", str(out), "--storage-root", stored.root],
    )
    assert res.exit_code == 0, res.output
    report = (out / f"laporan-{nib}-{PERIOD}.html").read_text(encoding="utf-8")
    stored_html = read_frame(stored, f"processed/bulletins/{PERIOD}/companies/reports.parquet").set_index(
        "nib"
    )
    assert report == stored_html.loc[nib, "html"] and f"NIB {nib}" in report
    assert (out / f"tanda-terima-{nib}-{PERIOD}.html").read_text(
        encoding="utf-8"
    ) == f"<p>tanda terima {nib}</p>"


def test_every_document_of_the_period_written_out(stored, tmp_path):
    out = tmp_path / "portal"
    res = CliRunner().invoke(
        _app(), ["documents", "--period", PERIOD, "--all", "--out", str(out), "--storage-root", stored.root]
    )
    assert res.exit_code == 0, res.output
    assert len(list((out / "laporan").glob("laporan-*-2025-08.html"))) == 7
    assert len(list((out / "tanda-terima").glob("tanda-terima-*-2025-08.html"))) == 8
    assert "wrote 7 files" in res.output and "wrote 8 files" in res.output


def test_unknown_company_or_missing_choice_says_what_to_do(stored, tmp_path):
    app = _app()
    res = CliRunner().invoke(
        app, ["documents", "--period", PERIOD, "--nib", "0000000000000", "--out", str(tmp_path / "x"),
              "--storage-root", stored.root],
    )  # fmt: skip
    assert res.exit_code == 1
    assert "no report or receipt for NIB 0000000000000" in res.output and "what to do" in res.output
    res = CliRunner().invoke(app, ["documents", "--period", PERIOD, "--storage-root", stored.root])
    assert res.exit_code == 2 and "give either --nib" in res.output
    res = CliRunner().invoke(
        app, ["documents", "--period", "2025-13", "--all", "--storage-root", stored.root]
    )
    assert res.exit_code == 2


def test_company_documents_setting_is_read_and_checked():
    from flows.settings import load_settings

    assert load_settings(env={}).company_documents == "auto"
    assert load_settings(env={"PRODUKTIVITAS_COMPANY_DOCUMENTS": "store"}).company_documents == "store"
    with pytest.raises(ValueError, match="company_documents must be auto, files or store"):
        load_settings(env={"PRODUKTIVITAS_COMPANY_DOCUMENTS": "zip"})


def test_a_receipt_of_an_older_run_is_read_from_its_html_file(tmp_path):
    """receipts.parquet 1.0 held the texts only: the receipt then comes from the run's HTML file."""
    import pyarrow as pa

    from tasks.parquet_io import table_bytes

    storage = Storage(str(tmp_path / "data"))
    folder = f"{rc.RECEIPTS_DATASET}/period={PERIOD}"
    old = pa.table({"receipt": ["9120000000001"], "nib": ["9120000000001"], "text": ["Tanda terima lama"]})
    storage.write_bytes(f"{folder}/{rc.TEXTS_FILE}", table_bytes(old))
    storage.write_text(f"{folder}/9120000000001.html", "<p>tanda terima lama</p>")
    assert rc.read_receipt(storage, PERIOD, "9120000000001") == "<p>tanda terima lama</p>"
    assert rc.read_receipt(storage, PERIOD, "9120000000002") is None
