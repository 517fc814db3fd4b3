"""``produktivitas bps-vars`` finds tables by keyword across every page of the var list."""

from __future__ import annotations

from typer.testing import CliRunner

from flows import cli
from tests.bps_server import TEST_KEY, bps_server  # noqa: F401  (fixture)


def _app():
    import typer

    app = typer.Typer()
    app.callback()(lambda: None)
    for name in cli._COMMAND_MODULES:
        __import__(name, fromlist=["register"]).register(app)
    return app


def test_bps_vars_pages_through_the_list_and_never_prints_the_key(bps_server, monkeypatch):  # noqa: F811
    items = [{"var_id": 1000 + i, "title": f"Tabel lain {i}", "unit": "Persen"} for i in range(14)]
    items += [{"var_id": 533, "title": "[Seri 2010] PDRB ADHK menurut pengeluaran", "unit": "Juta Rupiah"}]
    bps_server.add_list("var", items, domain="0000")
    monkeypatch.setenv("BPS_API_KEY", TEST_KEY)
    monkeypatch.setenv("PRODUKTIVITAS_BPS_BASE_URL", bps_server.base_url)
    monkeypatch.setenv("PRODUKTIVITAS_BPS_BACKOFF_SECONDS", "0.01")
    res = CliRunner().invoke(_app(), ["bps-vars", "--keyword", "tabel"])
    assert res.exit_code == 0, res.output
    assert res.output.count("Tabel lain") == 14  # two pages of 10 were read
    assert "533" not in res.output.split("match")[0]
    assert TEST_KEY not in res.output
    res = CliRunner().invoke(_app(), ["bps-vars", "--keyword", "pdrb"])
    assert "533\t[Seri 2010] PDRB ADHK menurut pengeluaran\t[Juta Rupiah]" in res.output


def test_bps_vars_without_key_says_what_to_do(monkeypatch):
    monkeypatch.delenv("BPS_API_KEY", raising=False)
    res = CliRunner().invoke(_app(), ["bps-vars", "--keyword", "bekerja"])
    assert res.exit_code == 2
    assert "BPS_API_KEY" in res.output
