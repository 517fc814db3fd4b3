"""The synthetic generator: deterministic per seed, labelled synthetic, consistent figures, bundled period."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from tasks import sample_data as sd
from tasks.storage import Storage

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "raw" / "submissions"


def test_same_seed_same_frame_other_seed_differs():
    a = sd.generate_frame("2025-08", 200, 7)
    pd.testing.assert_frame_equal(a, sd.generate_frame("2025-08", 200, 7))
    assert not a.equals(sd.generate_frame("2025-08", 200, 8))


def test_companies_stable_across_periods_figures_change():
    a, b = sd.generate_frame("2025-07", 50, 3), sd.generate_frame("2025-08", 50, 3)
    cols = ["nib", "company_name", "kbli_code", "kabkota_code"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert not a["net_sales"].equals(b["net_sales"])


def test_everything_is_labelled_synthetic():
    f = sd.generate_frame("2025-08", 500, 1)
    assert f["company_name"].str.endswith("(SINTETIS)").all()
    assert f["nib"].str.fullmatch(r"99\d{11}").all() and f["nib"].is_unique


def test_figures_are_consistent():
    f = sd.generate_frame("2025-08", 5000, 2)
    cats = f[["workers_pkwtt", "workers_pkwt", "workers_outsourced", "workers_unpaid"]]
    assert (cats.sum(axis=1) == f["workers_avg_total"]).all() and (cats >= 0).all().all()
    va = (f["net_sales"] + f["other_operating_income"] + f["chg_inventory_fg_wip"] - f["purch_raw_materials"]
          - f["purch_energy"] - f["purch_services"] - f["purch_goods_for_resale"])  # fmt: skip
    assert 0.9 < (va > 0).mean() < 1.0  # mostly positive, a few bad months
    hpw = (f["hours_normal"] + f["hours_overtime"]) / f["workers_avg_total"]
    not_mining = f["kbli_code"].str[:2] != "05"
    assert hpw[not_mining].between(150, 230).all()
    assert hpw[not_mining].median() == pytest.approx(180, abs=12)
    assert (f["workers_female"] <= f["workers_avg_total"]).all()
    assert f["kabkota_code"].isin(sd.KABKOTA_ORDER).all()


def test_scales_to_national_size():
    f = sd.generate_frame("2025-08", 100_000, 9, n_kabkota=10)
    assert len(f) == 100_000 and f["nib"].is_unique and f["kabkota_code"].nunique() == 10


def test_generate_period_formats_mistakes_and_no_overwrite(tmp_path):
    st = Storage(tmp_path)
    g = sd.generate_period("2025-08", 30, 5, 9, True, 0.5, st)
    names = [p.rsplit("/", 1)[1] for p in g.files]
    assert all(n.endswith(("_SINTETIS.csv", "_SINTETIS.xlsx", "_SINTETIS_revisi.xlsx")) for n in names)
    bulk = [n for n in names if "ekspor_gabungan" in n]
    assert len(bulk) == 1
    df = pd.read_csv(tmp_path / "raw/submissions/2025-08" / bulk[0], dtype=str)
    assert (df["synthetic"] == "ya").all() and len(df) == 15
    semi = [n for n in names if n.endswith(".csv") and n not in bulk]
    head = (tmp_path / "raw/submissions/2025-08" / semi[0]).read_text(encoding="utf-8").splitlines()
    assert ";" in head[0] and "Penjualan Bersih" in head[0]
    assert set(g.mistakes) == set(sd.MISTAKES) and all(len(v) == 1 for v in g.mistakes.values())
    with pytest.raises(FileExistsError):
        sd.generate_period("2025-08", 30, 5, 9, True, 0.5, st)
    sd.generate_period("2025-08", 30, 5, 9, True, 0.5, st, overwrite=True)


def test_xlsx_files_come_from_the_template(tmp_path):
    g = sd.generate_period("2025-08", 10, 5, 5, False, 0.0, tmp_path)
    x = next(p for p in g.files if p.endswith(".xlsx"))
    wb = load_workbook(tmp_path / x)
    assert "Petunjuk" in wb.sheetnames and wb["Data"]["A2"].value.startswith("99")


def test_bundled_period_is_small_labelled_and_reproducible(tmp_path):
    files = sorted(p for p in (BUNDLED / "2025-08").iterdir())
    assert sum(p.stat().st_size for p in BUNDLED.rglob("*") if p.is_file()) < 300_000
    assert all("SINTETIS" in p.name for p in files)
    assert "SYNTHETIC" in (BUNDLED / "README.md").read_text(encoding="utf-8")
    g = sd.generate_period("2025-08", 23, 2025, 9, True, 0.45, tmp_path)
    assert sorted(Path(p).name for p in g.files) == [p.name for p in files]
    regenerated = tmp_path / "2025-08"
    for p in files:
        if p.suffix == ".csv":
            assert (regenerated / p.name).read_bytes() == p.read_bytes()
    frame = sd.generate_frame("2025-08", 23, 2025, 9)
    assert frame["kabkota_code"].nunique() == 9
    assert np.isin(["2025-06", "2025-07"], [p.name for p in BUNDLED.iterdir()]).all()
