"""The bulletin, e-mails and company reports on the REAL stage outputs of the bundled period.

One module-scoped run of the real stages (BPS offline snapshot, submissions, company indicators,
bulletin to the outbox) on a copy of data/raw; every test then compares what was rendered with the
Parquet outputs and the stages' own counts.
"""

from __future__ import annotations

import email
import re
import shutil
from email import policy
from pathlib import Path

import pandas as pd
import pytest

from tasks import formatting as F
from tasks.receipts import read_texts
from tasks.storage import Storage
from tests.test_bulletin import num, tables

pytestmark = [pytest.mark.flow, pytest.mark.slow]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2025-08"
BASE = f"processed/bulletins/{PERIOD}"


@pytest.fixture(scope="module")
def real(prefect_harness, tmp_path_factory):
    from flows.settings import load_settings
    from flows.stage_bps import bps_stage
    from flows.stage_bulletin import bulletin_stage
    from flows.stage_company import company_stage
    from flows.stage_submissions import submissions_stage

    root = tmp_path_factory.mktemp("real") / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
    settings = load_settings(env={}, storage_root=str(root))
    args = {"settings": settings, "storage_root": str(root), "period": PERIOD, "run_id": "real"}
    out = {
        "bps": bps_stage(**args),
        "submissions": submissions_stage(**args),
        "company": company_stage(**args),
        "bulletin": bulletin_stage(**args),
    }
    st = Storage(root)
    html = {
        name: st.read_text(f"{BASE}/{name}")
        for name in ("bulletin.html", "bulletin-email.html", "bulletin-en.html", "bulletin-email-en.html")
    }
    return {"storage": st, "out": out, "html": html, "root": root}


def _pq(real, rel: str) -> pd.DataFrame:
    return pd.read_parquet(real["storage"].local_path(rel))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_quality_annex_equals_stage_counts_and_parquet(real):
    counts = real["out"]["submissions"]["counts"]
    rows = _pq(real, f"processed/quarantine/period={PERIOD}/rows.parquet")
    accepted = _pq(real, f"processed/submissions/period={PERIOD}")
    # the stage's counts and its Parquet agree ...
    assert counts["quarantined"] == int((rows["kind"] == "row").sum())
    assert counts["files_unreadable"] == int((rows["kind"] == "file").sum())
    assert counts["accepted"] == len(accepted)
    assert counts["rows_read"] == counts["accepted"] + counts["quarantined"]
    # ... and the bulletin prints exactly them
    summary = tables(real["html"]["bulletin.html"])["tabel-ringkas-kualitas"]
    assert num(summary["files"][1]) == counts["files"]
    assert num(summary["files_unreadable"][1]) == counts["files_unreadable"]
    assert num(summary["rows_read"][1]) == counts["rows_read"]
    assert num(summary["accepted"][1]) == counts["accepted"]
    assert num(summary["quarantined"][1]) == counts["quarantined"]
    assert num(summary["companies"][1]) == counts["companies"]
    sentence = (
        f"masuk {counts['files']} berkas kiriman perusahaan berisi {counts['rows_read']} baris data; "
        f"{counts['accepted']} baris dari {counts['companies']} perusahaan diterima, sedangkan "
        f"{counts['quarantined']} baris dan {counts['files_unreadable']} berkas"
    )
    assert sentence in real["html"]["bulletin.html"]


def test_reasons_table_counts_and_labels(real):
    rows = _pq(real, f"processed/quarantine/period={PERIOD}/rows.parquet")
    expected: dict[str, list[int]] = {}
    for kind, codes in zip(rows["kind"], rows["reason_codes"], strict=True):
        for code in dict.fromkeys(c for c in str(codes).split(";") if c):
            expected.setdefault(code, [0, 0])[0 if kind == "row" else 1] += 1
    for lang, name in (("id", "bulletin.html"), ("en", "bulletin-en.html")):
        tab = tables(real["html"][name])["tabel-kualitas"]
        assert set(tab) == set(expected)
        for code, (n_rows, n_files) in expected.items():
            assert tab[code] == [F.reason_label(code, lang), str(n_rows), str(n_files)]
            assert code not in tab[code][0]  # a description, never the raw code
    assert "corrupt_xlsx" not in _text(real["html"]["bulletin.html"])


def test_bps_numbers_equal_parquet(real):
    html = real["html"]["bulletin.html"]
    tabs = tables(html)
    prov = _pq(real, "processed/indicators/provincial_productivity.parquet")
    prod = "productivity_million_idr_per_worker"
    year = int(prov.loc[(prov["region_code"] == "64") & prov[prod].notna(), "year"].max())
    py = prov[(prov["year"] == year) & (prov["region_code"] != "00") & prov[prod].notna()].set_index(
        "region_code"
    )
    tab = tabs["tabel-provinsi"]
    assert set(py.index) <= set(tab)
    for code, r in py.iterrows():
        assert num(tab[code][1]) == pytest.approx(round(r[prod], 2))
        if pd.notna(r["productivity_growth_pct"]):
            assert num(tab[code][2]) == pytest.approx(round(r["productivity_growth_pct"], 2))
        assert int(tab[code][3]) == int(r["rank"])
    k = prov[prov["region_code"] == "64"].set_index("year")
    for y, row in tabs["tabel-tren"].items():
        assert num(row[1]) == pytest.approx(round(k.loc[int(y), prod], 2))
    assert f"peringkat ke-{int(k.loc[year, 'rank'])} dari {int(k.loc[year, 'rank_of'])} provinsi" in html

    kk = _pq(real, "processed/indicators/kabkota_productivity.parquet")
    kk = kk[kk["year"] == kk["year"].max()].set_index("region_code")
    tab = tabs["tabel-kabkota"]
    assert set(tab) == set(kk.index)
    for code, r in kk.iterrows():
        assert num(tab[code][1]) == r["employed_persons"]
        if pd.notna(r[prod]):
            assert num(tab[code][3]) == pytest.approx(round(r[prod], 2))
        else:
            assert tab[code][3] == "-"

    sec = _pq(real, "processed/bps/kaltim_employment_by_sector.parquet")
    sec = sec[sec["year"] == sec["year"].max()].set_index("sector_code")
    tab = tabs["tabel-sektor"]
    for code, r in sec.iterrows():
        assert num(tab[code][1]) == r["employed_persons"]
        assert num(tab[code][2]) == pytest.approx(round(r["share_pct"], 2))
    assert num(tab["total"][1]) == sec["employed_persons"].sum()


def test_aggregate_tables_equal_parquet_and_name_the_unit(real):
    agg = _pq(real, f"processed/indicators/aggregates/period={PERIOD}")
    tabs = tables(real["html"]["bulletin.html"])
    for level, key in (("kabkota", "kabkota_code"), ("sector", "pdrb_group")):
        tab = tabs[f"tabel-agregat-{level}"]
        part = agg[agg["level"] == level]
        assert set(tab) == set(part[key].astype(str)) | {"total"}
        for r in part.itertuples():
            cells = tab[str(getattr(r, key))]
            assert num(cells[1]) == r.n_companies
            if r.suppressed:
                assert cells[2:] == ["tidak dipublikasikan (kerahasiaan)"]
            else:
                assert num(cells[2]) == pytest.approx(round(r.va_per_worker_idr / 1e6, 2))
                assert num(cells[3]) == pytest.approx(round(r.va_per_worker_annualised_idr / 1e6, 2))
    assert "Per pekerja per bulan" in real["html"]["bulletin.html"]
    assert "Per pekerja per tahun (disetahunkan)" in real["html"]["bulletin.html"]


def _suppressed_true_values(real) -> list[tuple[float, set[str]]]:
    """Each suppressed cell's value per worker recomputed from the company Parquet, with its members."""
    agg = _pq(real, f"processed/indicators/aggregates/period={PERIOD}")
    comp = _pq(real, f"processed/indicators/company/period={PERIOD}")
    out = []
    for r in agg[agg["suppressed"]].itertuples():
        m = pd.Series(True, index=comp.index)
        if pd.notna(r.kabkota_code):
            m &= comp["kabkota_code"] == r.kabkota_code
        if pd.notna(r.pdrb_group):
            m &= comp["pdrb_group"] == r.pdrb_group
        g = comp[m]
        assert len(g) == r.n_companies
        out.append((float(g["value_added_idr"].sum() / g["workers_avg_total"].sum()), set(g["nib"])))
    assert out
    return out


def test_no_suppressed_value_anywhere(real):
    """No suppressed cell's value in the bulletins, e-mails or company reports.

    A company's own confidential report may show its own figures, which equal a suppressed
    one-company cell: that report is exempt for that cell only.
    """
    st = real["storage"]
    sub = _pq(real, f"processed/submissions/period={PERIOD}")
    nib_of_email = dict(zip(sub["contact_email"], sub["nib"], strict=True))
    docs: list[tuple[str, str | None, str]] = [(n, None, h) for n, h in real["html"].items()]
    kept = _pq(real, f"{BASE}/companies/reports.parquet")  # every report, whatever the layout
    docs += [(f"{nib}.html", nib, html) for nib, html in zip(kept["nib"], kept["html"], strict=True)]
    for name in st.listdir(f"{BASE}/companies"):
        if name.endswith(".html"):
            docs.append((name, name.removesuffix(".html"), st.read_text(f"{BASE}/companies/{name}")))
    for p in Path(st.local_path(f"processed/outbox/{PERIOD}")).glob("*.eml"):
        msg = email.message_from_bytes(p.read_bytes(), policy=policy.default)
        owner = nib_of_email.get(str(msg["To"]).split("<")[-1].rstrip(">").strip())
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                content = part.get_content()
                docs.append((p.name, owner, content if isinstance(content, str) else content.decode()))
    checked = 0
    for v, members in _suppressed_true_values(real):
        forms = {F.rupiah(x, d, lang) for x in (v, 12 * v) for d in (1, 2) for lang in ("id", "en")}
        juta = {F.number(v / 1e6, 2), F.number(v * 12 / 1e6, 2)}
        for name, owner, text in docs:
            if owner is not None and members == {owner}:
                continue
            checked += 1
            for form in forms:
                assert form not in text, (form, name)
            for tid, rows in tables(text).items():
                if "agregat" in tid or "pembanding" in tid:
                    cells = {c for row in rows.values() for c in row}
                    assert not (juta & cells), (tid, name)
    assert checked


def test_company_reports_flags_benchmarks_receipts(real):
    st = real["storage"]
    comp = _pq(real, f"processed/indicators/company/period={PERIOD}")
    assert sorted(st.listdir(f"{BASE}/companies")) == sorted(
        [*(f"{n}.html" for n in comp["nib"]), "reports.parquet"]
    )
    flagged = comp[comp["flag_negative_va"]]
    assert len(flagged)
    receipt_texts = read_texts(st, PERIOD)
    for r in comp.itertuples():
        html = st.read_text(f"{BASE}/companies/{r.nib}.html")
        assert "RAHASIA" in html and "sintetis" in html
        receipt = receipt_texts[r.nib]
        assert receipt.splitlines()[2].replace("&", "&amp;") in html  # its own receipt embedded
        has_sentence = "Nilai tambah bulan ini negatif" in html
        assert has_sentence == bool(r.flag_negative_va)
        assert "flag_" not in _text(html) and "negative_value_added" not in _text(html)
        bench = html.split('id="tabel-pembanding-bps"')[1].split("</table>")[0]
        assert "Perusahaan Anda" in bench and "Produktivitas pembanding" in bench
        assert "atas dasar harga berlaku (nominal)" in html and "atas dasar harga konstan 2010" in html
        if pd.isna(r.benchmark_ratio):
            assert "Rasio terhadap pembanding tidak dihitung" in html
        assert F.rupiah_million(r.benchmark_productivity_million_idr_per_worker, 2) in html
        others = set(comp["company_name"]) - {r.company_name}
        assert not any(o in html for o in others)


def test_emails_and_eml_resolve_and_read(real):
    outbox = Path(real["storage"].local_path(f"processed/outbox/{PERIOD}"))
    emls = sorted(outbox.glob("*.eml"))
    assert len(emls) == real["out"]["bulletin"]["counts"]["messages"]
    counts = real["out"]["submissions"]["counts"]
    for p in emls:
        msg = email.message_from_bytes(p.read_bytes(), policy=policy.default)
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert "<style" not in html
        cids = {
            part["Content-ID"].strip("<>")
            for part in msg.walk()
            if part.get_content_maintype() == "image" and part["Content-ID"]
        }
        refs = set(re.findall(r'src="cid:([^"]+)"', html))
        assert refs <= cids
        if p.name.startswith("bulletin-"):
            assert len(refs) == 4
            assert any((a.get_filename() or "").startswith("buletin-") for a in msg.iter_attachments())
            if "Agustus 2025" in text:
                assert f"{counts['rows_read']}" in text and "Baris dikarantina: 4" in text
        else:
            assert "RAHASIA" in msg["Subject"] and "TANDA TERIMA" in text


def test_english_bulletin_and_archive(real):
    en = real["html"]["bulletin-en.html"]
    assert "Labour Productivity in East Kalimantan, August 2025" in en
    assert "Data sources by dataset" in en and "Per worker per month" in en
    for word in ("dikarantina", "tidak dipublikasikan", "Sumber:", "berkas"):
        assert word not in _text(en), word
    index = real["storage"].read_text("processed/bulletins/index.html")
    assert 'href="2025-08/bulletin.html"' in index and 'href="2025-08/bulletin-en.html"' in index


def test_sources_deduplicated_and_in_indonesian(real):
    html = real["html"]["bulletin.html"]
    body = html.split('id="tabel-sumber"')[1].split("</table>")[0]
    rows = re.findall(r"<tr class=\"wrap\">(.*?)</tr>", body, re.S)
    keys = [re.sub(r"<[^>]+>", "|", r) for r in rows]
    assert len(keys) == len(set(keys))  # no repeated source
    assert "Sakernas" in body and "BPS WebAPI" in body and "belum dicocokkan dengan publikasi BPS" in body
    assert body.count("yafiodo") == 1  # the 2024 third-party compilation: once, not once per variant
    main = html.split('id="sumber-teknis"')[0]
    assert "third-party compiled" not in main and "as reported by the press" not in main
