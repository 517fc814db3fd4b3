"""The bulletin's numbers come from the Parquet outputs; confidentiality, synthetic labels, archive, stage."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pandas as pd
import pyarrow as pa
import pytest

from tasks import delivery_ledger as L
from tasks import formatting as F
from tasks.bulletin import build_context, load_inputs, period_messages, produce_period, render_bulletin
from tasks.company_report import build_company_context, render_company_report
from tasks.mailer import Recipient
from tasks.parquet_io import file_metadata, read_frame, write_partition
from tasks.storage import Storage
from tests.bulletin_fixtures import SCRIPT_NAME, kabkota_frame, provincial_frame, write_fixture

PERIOD = "2025-08"
RUN = date(2025, 9, 5)


class Tables(HTMLParser):
    """table id -> list of (data-code, [cell texts]) for every body row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[str, list[str]]]] = {}
        self.stack: list[str] = []
        self.row: tuple[str, list[str]] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.stack.append(a.get("id") or "")
            self.tables.setdefault(self.stack[-1], [])
        elif tag == "tr" and self.stack:
            self.row = (a.get("data-code") or "", [])
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row[1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row[0]:
                self.tables[self.stack[-1]].append(self.row)
            self.row = None
        elif tag == "table" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> dict[str, dict[str, list[str]]]:
    p = Tables()
    p.feed(html)
    return {tid: dict(rows) for tid, rows in p.tables.items()}


def num(text: str) -> float:
    """Parse an Indonesian printed number ("1.976.447", "288,81", "-0,76")."""
    return float(text.replace(".", "").replace(",", "."))


@pytest.fixture
def storage(tmp_path):
    return write_fixture(tmp_path / "data", PERIOD, script_name=True)


@pytest.fixture
def html(storage):
    return render_bulletin(build_context(load_inputs(storage, PERIOD), "id", RUN, 3))


def test_province_numbers_equal_parquet(html):
    prov = provincial_frame()
    y24 = prov[(prov["year"] == 2024) & (prov["region_code"] != "00")].set_index("region_code")
    tab = tables(html)["tabel-provinsi"]
    assert set(y24.index) <= set(tab)
    for code, r in y24.iterrows():
        cells = tab[code]
        assert cells[0] == r["region_name"]
        assert num(cells[1]) == pytest.approx(round(r["productivity_million_idr_per_worker"], 2), abs=1e-9)
        assert int(cells[3]) == int(r["rank"])
    kaltim = y24.loc["64"]
    assert num(tab["64"][2]) == pytest.approx(round(kaltim["productivity_growth_pct"], 2))
    assert tab["00"][1] == "-"  # no national PDB for 2024: empty, never the provinces' sum


def test_trend_kabkota_and_highlights_equal_parquet(html):
    prov = provincial_frame()
    k = prov[prov["region_code"] == "64"].set_index("year")
    n = prov[prov["region_code"] == "00"].set_index("year")
    trend = tables(html)["tabel-tren"]
    for y in (2022, 2023, 2024):
        row = trend[str(y)]
        assert row[0].startswith(str(y)) and row[0].endswith("*")  # preliminary marks after the year
        assert num(row[1]) == pytest.approx(round(k.loc[y, "productivity_million_idr_per_worker"], 2))
    assert num(trend["2023"][3]) == pytest.approx(
        round(n.loc[2023, "productivity_million_idr_per_worker"], 2)
    )
    assert trend["2024"][3] == "-"

    kk = kabkota_frame()
    kk = kk[kk["year"] == 2024].set_index("region_code")
    tab = tables(html)["tabel-kabkota"]
    assert set(tab) == set(kk.index)
    for code, r in kk.iterrows():
        assert num(tab[code][1]) == r["employed_persons"]
        assert num(tab[code][3]) == pytest.approx(round(r["productivity_million_idr_per_worker"], 2))

    value = F.rupiah_million(k.loc[2024, "productivity_million_idr_per_worker"], 2)
    assert f"tahun 2024*** sebesar {value} per pekerja" in html
    assert "peringkat ke-2 dari 38 provinsi" in html
    assert F.persons(int(k.loc[2024, "employed_persons"])) in html
    assert "* angka sementara; ** angka sangat sementara; *** angka sangat sangat sementara" in html


def test_suppressed_cells_show_text_never_values(storage, html):
    agg = pd.read_parquet(storage.local_path(f"processed/indicators/aggregates/period={PERIOD}"))
    tab = tables(html)["tabel-agregat-kabkota"]
    for r in agg[agg["level"] == "kabkota"].itertuples():
        cells = tab[r.kabkota_code]
        if r.suppressed:
            assert cells[2:] == ["tidak dipublikasikan (kerahasiaan)"]
        else:
            # per worker per month and annualised, in million rupiah (the aggregates' column is monthly)
            assert num(cells[2]) == pytest.approx(round(r.va_per_worker_idr / 1e6, 2))
            assert num(cells[3]) == pytest.approx(round(r.va_per_worker_annualised_idr / 1e6, 2))
    assert any(r.suppressed for r in agg.itertuples())
    assert "Per pekerja per bulan" in html and "(juta rupiah, harga berlaku)" in html
    total = agg[agg["level"] == "total"].iloc[0]
    assert num(tab["total"][2]) == pytest.approx(round(total.va_per_worker_idr / 1e6, 2))


def test_quality_annex_counts_and_reason_labels(html):
    q = tables(html)
    summary = q["tabel-ringkas-kualitas"]
    assert summary["files"][1] == "10" and summary["files_unreadable"][1] == "1"
    assert summary["rows_read"][1] == "10" and summary["accepted"][1] == "7"
    assert summary["quarantined"][1] == "3"
    reasons = q["tabel-kualitas"]
    # counted per quarantined row/file, one row can carry two reasons; labels in Indonesian
    assert reasons["invalid_kabkota"] == ["Kode kabupaten/kota bukan wilayah Kalimantan Timur", "2", "0"]
    assert reasons["corrupt_xlsx"] == ["Berkas Excel rusak atau terpotong", "0", "1"]
    assert "" not in reasons and "corrupt_xlsx" not in "".join(c for r in reasons.values() for c in r)
    assert "lebih dari satu alasan" in html
    assert (
        "Pada periode Agustus 2025 masuk 10 berkas kiriman perusahaan berisi 10 baris data; 7 baris dari "
        "7 perusahaan diterima, sedangkan 3 baris dan 1 berkas yang tidak dapat dibaca dikarantina"
    ) in html
    assert "data perusahaan sintetis (contoh)" in html
    assert 'id="sintetis"' in html


def test_every_quarantine_reason_code_has_a_label():
    from tasks.submission_readers import _CELL_REASONS, _rejected
    from tasks.submission_validate import build_checks

    codes = {c.reason_code for c in build_checks("2025-08", umk=True, previous=True) if c.severity == "hard"}
    codes |= set(_CELL_REASONS) | {"superseded"}
    file_codes = [c for c in F.REASONS if _is_file_code(c, _rejected)]
    assert {"corrupt_xlsx", "missing_columns", "empty_file", "read_failed"} <= set(file_codes)
    missing = sorted(c for c in codes if c not in F.REASONS)
    assert not missing, missing
    assert F.reason_label("nope") == "Alasan lain (nope)"
    assert F.reason_label("corrupt_xlsx", "en") == "Damaged or truncated Excel file"


def _is_file_code(code, rejected):
    try:
        rejected(code, "x.xlsx")
    except KeyError:
        return False
    return True


def test_self_contained_no_other_host(html):
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert "<script" not in html
    assert "@page" in html and "overflow-x: auto" in html


def test_no_submissions_is_said(tmp_path):
    st = write_fixture(tmp_path / "data", PERIOD, submissions=False)
    html = render_bulletin(build_context(load_inputs(st, PERIOD), "id", RUN, 1))
    assert "Tidak ada kiriman data perusahaan yang masuk untuk periode Agustus 2025." in html
    assert "sintetis" not in html


def test_english_option(storage):
    html = render_bulletin(build_context(load_inputs(storage, PERIOD), "en", RUN, 3))
    assert "Labour Productivity in East Kalimantan, August 2025" in html
    assert "IDR 288.81 million per worker" in html


def test_company_report_escapes_and_stays_confidential(storage):
    inp = load_inputs(storage, PERIOD)
    row = inp.companies[inp.companies["company_name"] == SCRIPT_NAME].iloc[0]
    html = render_company_report(build_company_context(storage, inp, row, "id", "5 September 2025"))
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "RAHASIA" in html
    assert "TANDA TERIMA" in html  # its receipt embedded
    others = set(inp.companies["company_name"]) - {SCRIPT_NAME}
    assert not any(o.replace("(SINTETIS)", "").strip() in html for o in others)
    trend = tables(html)
    assert "Juli 2025" in html and "Agustus 2025" in html  # previous period's partition used
    bench = html.split('id="tabel-pembanding"')[1]
    assert "Kota Balikpapan" in bench  # 3 companies: published cell
    assert "tidak dipublikasikan" not in bench
    assert trend  # parsed


def test_produce_period_writes_outputs_and_archive(storage):
    r = produce_period(storage, PERIOD, "id", RUN, [Recipient("A", "a@x.invalid", "x", "en", "")])
    base = f"processed/bulletins/{PERIOD}"
    for name in ("bulletin.html", "bulletin-en.html", "bulletin-email.html", "charts/gambar-provinsi.png"):
        assert storage.exists(f"{base}/{name}"), name
    assert len(storage.listdir(f"{base}/companies")) == 7 + 1  # an HTML file each, and reports.parquet
    index = storage.read_text("processed/bulletins/index.html")
    assert 'href="2025-08/bulletin.html"' in index
    email = storage.read_text(f"{base}/bulletin-email.html")
    assert "<style" not in email and 'src="cid:gambar-provinsi@produktivitas"' in email
    assert r["counts"]["company_reports"] == 7
    assert {m.kind for m in r["messages"]} == {"bulletin"}  # company reports' are built at delivery
    msgs = list(period_messages(storage, PERIOD, "id", r["release_date"], r["messages"]))
    assert {m.kind.split("-")[0] for m in msgs} == {"bulletin", "company_report"}
    assert len(msgs) == r["counts"]["messages"]
    report = next(m for m in msgs if m.kind.startswith("company_report"))
    nib = report.kind.split("-", 1)[1]
    written = storage.read_text(f"{base}/companies/{nib}.html")
    assert report.attachments == [(f"laporan-{nib}-{PERIOD}.html", written.encode(), "text/html")]
    assert nib in report.text and "<style" not in report.html


def test_reports_on_two_worker_processes_equal_the_serial_ones(storage, tmp_path, monkeypatch):
    import shutil

    import tasks.company_report as cr

    serial_run = produce_period(storage, PERIOD, "id", RUN, [])
    base = f"processed/bulletins/{PERIOD}/companies"
    serial = {n: storage.read_text(f"{base}/{n}") for n in storage.listdir(base) if n.endswith(".html")}
    serial_store = read_frame(storage, f"{base}/reports.parquet")
    other = tmp_path / "pooled"
    shutil.copytree(storage.root, other)
    st2 = Storage(str(other))
    monkeypatch.setattr(cr, "REPORT_BATCH", 3)  # 7 companies -> 3 batches over 2 processes
    monkeypatch.setattr(cr, "POOL_MIN_COMPANIES", 1)
    started: list[int] = []
    import tasks.process_pool as pp

    real_start = pp._start
    monkeypatch.setattr(pp, "_start", lambda n: started.append(n) or real_start(n))
    # a big period: the reports render on the workers while the bulletin renders in a thread of its own
    pooled_run = produce_period(st2, PERIOD, "id", RUN, [], workers=2)
    assert started == [2]
    assert {n: st2.read_text(f"{base}/{n}") for n in st2.listdir(base) if n.endswith(".html")} == serial
    pd.testing.assert_frame_equal(read_frame(st2, f"{base}/reports.parquet"), serial_store)
    bulletin = f"processed/bulletins/{PERIOD}/bulletin.html"
    assert st2.read_text(bulletin) == storage.read_text(bulletin)
    assert [u.replace(str(other), "") for u in pooled_run["outputs"]] == [
        u.replace(storage.root, "") for u in serial_run["outputs"]
    ]
    for key in ("counts", "notices", "diagnostics", "release_date"):
        assert pooled_run[key] == serial_run[key]


def test_store_layout_keeps_the_reports_in_the_parquet_and_delivers_the_same(storage):
    """A period kept as a store (national scale, or forced) has each report once, in reports.parquet."""
    from tasks.company_report import read_company_report

    base = f"processed/bulletins/{PERIOD}/companies"
    r = produce_period(storage, PERIOD, "id", RUN, [], layout="files")
    as_files = {
        n[:-5]: storage.read_text(f"{base}/{n}") for n in storage.listdir(base) if n.endswith(".html")
    }
    files_msgs = list(period_messages(storage, PERIOD, "id", r["release_date"], []))
    r = produce_period(storage, PERIOD, "id", RUN, [], layout="store")
    assert storage.listdir(base) == ["reports.parquet"]  # the earlier layout's files went with the swap
    assert r["counts"]["company_reports"] == len(as_files) == 7
    stored = read_frame(storage, f"{base}/reports.parquet")
    assert stored.columns.tolist() == ["nib", "html"]
    assert dict(zip(stored["nib"], stored["html"], strict=True)) == as_files
    assert file_metadata(storage, f"{base}/reports.parquet")["period"] == PERIOD
    assert {n: read_company_report(storage, PERIOD, n) for n in as_files} == as_files
    assert read_company_report(storage, PERIOD, "0000000000000") is None
    msgs = list(period_messages(storage, PERIOD, "id", r["release_date"], []))
    assert [(m.kind, m.attachments, m.text, m.html) for m in msgs] == [
        (m.kind, m.attachments, m.text, m.html) for m in files_msgs
    ]


def test_companies_sharing_an_address_each_get_their_report(storage):
    from tasks.mailer import deliver

    comp_rel = next(r for r in storage.walk_files(f"processed/indicators/company/period={PERIOD}"))
    comp = read_frame(storage, comp_rel)
    comp["contact_email"] = "hrd@grup-usaha.invalid"  # one group, one HR office
    write_partition(storage, "processed/indicators/company", f"period={PERIOD}",
                    pa.Table.from_pandas(comp, preserve_index=False))  # fmt: skip
    r = produce_period(storage, PERIOD, "id", RUN, [])
    msgs = list(period_messages(storage, PERIOD, "id", r["release_date"], r["messages"]))
    reports = [m for m in msgs if m.kind.startswith("company_report")]
    assert len(reports) == len(comp) and len({m.kind for m in reports}) == len(comp)
    out = deliver(storage, PERIOD, msgs, "x@y.invalid", None)
    eml = [n for n in storage.listdir(f"processed/outbox/{PERIOD}") if n.startswith("company_report")]
    assert len(eml) == len(comp), out


@pytest.mark.flow
@pytest.mark.slow
def test_stage_renders_and_outbox_rerun_sends_nothing(prefect_harness, tmp_path):
    from flows.settings import load_settings
    from flows.stage_bulletin import bulletin_stage

    st = write_fixture(tmp_path / "data", PERIOD)
    settings = load_settings(env={}, storage_root=str(tmp_path / "data"))
    first = bulletin_stage(settings=settings, storage_root=st.root, period=PERIOD, run_id="t1")
    assert first["counts"]["mail_outbox"] == first["counts"]["messages"] > 0
    assert any("outbox" in n for n in first["notices"])
    second = bulletin_stage(settings=settings, storage_root=st.root, period=PERIOD, run_id="t2")
    assert second["counts"]["mail_outbox"] == 0
    assert second["counts"]["mail_skipped"] == first["counts"]["messages"]
    statuses = [e["status"] for e in L.read_ledger(st)]
    assert statuses == [L.OUTBOX] * first["counts"]["messages"]


def test_company_reports_read_history_once_and_match_the_per_company_reader(tmp_path, monkeypatch):
    import tasks.company_report as cr

    st = write_fixture(tmp_path / "data", PERIOD, previous_periods=("2025-06", "2025-07"))
    reads: list[str] = []
    real = cr._read_trend_columns
    monkeypatch.setattr(cr, "_read_trend_columns", lambda s, p: reads.append(p) or real(s, p))
    r = produce_period(st, PERIOD, "id", RUN, [])
    assert sorted(reads) == ["2025-06", "2025-07"]  # once per earlier period, not once per company
    inp = load_inputs(st, PERIOD)
    idx = cr.report_index(st, inp)
    for row in inp.companies.to_dict("records"):
        ctx = build_company_context(st, inp, row, "id", "5 September 2025", idx)
        hist = cr.company_history(st, row["nib"], PERIOD).sort_values("period", kind="stable")
        assert [t[0] for t in ctx["trend_rows"]] == [
            *(F.period_label(p, "id") for p in hist["period"]),
            "Agustus 2025",
        ]
        want = [F.rupiah(v, 2, "id") for v in hist["va_per_worker_idr"]]
        assert [t[2] for t in ctx["trend_rows"][:-1]] == want
        # the same context from a Series without an index (the single-report path)
        alone = build_company_context(st, inp, pd.Series(row), "id", "5 September 2025")
        assert render_company_report(alone) == render_company_report(ctx)
        page = st.read_text(f"processed/bulletins/{PERIOD}/companies/{row['nib']}.html")
        assert page == render_company_report(ctx)
    assert (
        r["counts"]["company_reports"]
        == len(inp.companies)
        == len([n for n in st.listdir(f"processed/bulletins/{PERIOD}/companies") if n.endswith(".html")])
    )


def test_company_benchmarks_only_published_cells_from_the_index(storage):
    import tasks.company_report as cr

    inp = load_inputs(storage, PERIOD)
    agg = inp.aggregates
    hidden = agg[agg["suppressed"].fillna(True).astype(bool)]
    assert not hidden.empty  # the fixture has suppressed cells
    idx = cr.report_index(storage, inp)
    cells = [c for v in idx.cells.values() for c in v]
    published = agg[~agg["suppressed"].fillna(True).astype(bool)]
    assert len(cells) == len(published[published["level"].isin(["kabkota", "sector", "total"])])
    for row in inp.companies.to_dict("records"):
        bench = build_company_context(storage, inp, row, "id", "5 September 2025", idx)["benchmarks"]
        lv = published["level"]
        want = published[
            ((lv == "kabkota") & (published["kabkota_code"] == row["kabkota_code"]))
            | ((lv == "sector") & (published["pdrb_group"] == row["pdrb_group"]))
            | (lv == "total")
        ]
        assert [b["month"] for b in bench] == [
            F.rupiah(v, 2, "id")
            for lvl in ("kabkota", "sector", "total")
            for v in want.loc[want["level"] == lvl, "va_per_worker_idr"]
        ]


def test_companies_folder_is_one_swap_without_stale_reports(storage, monkeypatch):
    import os

    base = f"processed/bulletins/{PERIOD}/companies"
    storage.write_text(f"{base}/0000000000000.html", "laporan lama perusahaan yang sudah keluar")
    synced: list[str] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real(fd))
    produce_period(storage, PERIOD, "id", RUN, [])
    names = storage.listdir(base)
    assert "0000000000000.html" not in names and len(names) == 7 + 1
    assert synced and not [
        p for p in synced if "/companies/" in p or "/.companies.tmp-" in p
    ]  # built aside, swapped in once
    assert not [n for n in storage.listdir(f"processed/bulletins/{PERIOD}") if n.startswith(".")]


def test_frame_records_are_to_dict_with_none_for_every_missing_value():
    """The report batches' fast row dicts: ``to_dict("records")``'s values, and None wherever one is missing."""
    import pandas as pd

    from tasks.company_report import frame_records

    df = pd.DataFrame(
        {
            "nib": pd.array(["0101", None, "0303"], dtype="str"),
            "n": pd.array([1, 2, 3], dtype="int64"),
            "y": pd.array([2023, 2024, 2025], dtype="int32"),
            "v": [1.5, float("nan"), -2.0],
            "flag": [True, False, True],
            "below": pd.array([True, None, pd.NA], dtype=object),
            "when": pd.to_datetime(["2025-08-01", None, "2025-06-01"]),
        }
    )
    want, got = df.to_dict("records"), frame_records(df)
    assert len(got) == len(want) == 3
    for a, b in zip(want, got, strict=True):
        assert list(a) == list(b)
        for k in a:
            if pd.isna(a[k]):
                assert b[k] is None, k
            else:
                assert type(a[k]) is type(b[k]) and a[k] == b[k], k
    assert got[1]["nib"] is None and got[1]["v"] is None and got[1]["when"] is None
    assert got[2]["below"] is None and got[0]["below"] is True
