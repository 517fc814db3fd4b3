"""Settings, storage and Parquet IO: the pieces every stage stands on."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from flows.settings import load_settings
from schemas.fields import Field, pa_schema
from tasks.parquet_io import file_metadata, frame_to_table, read_frame, write_partition, write_table
from tasks.secrets import Secret, redact
from tasks.storage import Storage


def test_settings_precedence_defaults_toml_env(tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text('disclosure_p_percent = 15\nsmtp_host = "mail.example.invalid"\nlanguage = "en"\n')
    env = {"PRODUKTIVITAS_CONFIG": str(cfg), "PRODUKTIVITAS_LANGUAGE": "id", "BPS_API_KEY": "abc123secret"}
    s = load_settings(env=env)
    assert s.disclosure_p_percent == 15.0  # from the file
    assert s.smtp_host == "mail.example.invalid"
    assert s.language == "id"  # environment beats the file
    assert isinstance(s.bps_api_key, Secret) and s.bps_api_key.get() == "abc123secret"
    assert s.smtp_port == 587  # default


def test_settings_never_show_secrets(tmp_path):
    s = load_settings(env={"BPS_API_KEY": "abc123secret", "SMTP_PASSWORD": "hunter2hunter2"})
    text = json.dumps(s.describe()) + repr(s) + str(s)
    assert "abc123secret" not in text and "hunter2hunter2" not in text
    assert s.describe()["bps_api_key"] == "set"


def test_secret_in_config_file_is_refused(tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text('bps_api_key = "abc"\n')
    with pytest.raises(ValueError, match="BPS_API_KEY"):
        load_settings(env={"PRODUKTIVITAS_CONFIG": str(cfg)})


def test_missing_config_file_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_settings(env={"PRODUKTIVITAS_CONFIG": str(tmp_path / "nope.toml")})


def test_redact_removes_key_from_urls_and_values():
    url = "https://webapi.bps.go.id/v1/api/list/model/data/domain/0000/var/533/th/122/key/deadbeef/"
    assert "deadbeef" not in redact(url)
    assert redact("https://x/list?model=data&key=deadbeef&var=1") == "https://x/list?model=data&key=***&var=1"
    assert redact("oops deadbeef here", Secret("deadbeef")) == "oops *** here"


def test_storage_atomic_write_and_never_overwrite(tmp_path):
    st = Storage(tmp_path)
    st.write_text("processed/a/b.txt", "one")
    st.write_text("processed/a/b.txt", "two")
    assert st.read_text("processed/a/b.txt") == "two"
    assert st.listdir("processed/a") == ["b.txt"]  # no temporary files left behind
    assert st.write_new("raw/x.json", b"1") is True
    assert st.write_new("raw/x.json", b"2") is False
    assert st.read_bytes("raw/x.json") == b"1"
    with pytest.raises(ValueError):
        st.path("raw/../../etc/passwd")


def test_replace_dir_swaps_whole_partition(tmp_path):
    st = Storage(tmp_path)
    st.write_text("ds/period=2025-08/old.parquet", "old")
    st.replace_dir("ds/period=2025-08", lambda tmp: st.write_text(f"{tmp}/new.parquet", "new"))
    assert st.listdir("ds/period=2025-08") == ["new.parquet"]
    assert st.listdir("ds") == ["period=2025-08"]


def test_replace_dir_removes_a_big_old_folder_in_the_background(tmp_path, monkeypatch):
    import os

    import tasks.storage as storage_mod

    monkeypatch.setattr(storage_mod, "BACKGROUND_REMOVE_MIN_ENTRIES", 3)
    st = Storage(tmp_path)
    for i in range(10):
        st.write_text(f"receipts/period=2025-08/{i}.html", "old")
    os.makedirs(tmp_path / "receipts" / ".period=2025-08.old-from-a-killed-run")
    started: list[str] = []
    real = storage_mod.threading.Thread
    monkeypatch.setattr(storage_mod.threading, "Thread", lambda **kw: started.append("t") or real(**kw))
    st.replace_dir("receipts/period=2025-08", lambda tmp: st.write_text(f"{tmp}/new.html", "new"))
    assert st.listdir("receipts/period=2025-08") == ["new.html"]  # the new folder is in place at once
    assert started == ["t"]  # only the big folder went to a thread; the small stale one was removed now
    storage_mod.wait_for_removals()
    assert st.listdir("receipts") == ["period=2025-08"]  # nothing left aside


def test_replace_dir_failure_keeps_old_partition(tmp_path):
    st = Storage(tmp_path)
    st.write_text("ds/period=2025-08/old.parquet", "old")

    def boom(tmp: str) -> None:
        st.write_text(f"{tmp}/half.parquet", "half")
        raise RuntimeError("crash while writing")

    with pytest.raises(RuntimeError):
        st.replace_dir("ds/period=2025-08", boom)
    assert st.listdir("ds/period=2025-08") == ["old.parquet"]
    assert st.listdir("ds") == ["period=2025-08"]


def test_parquet_schema_units_and_run_metadata(tmp_path):
    import pandas as pd

    fields = [
        Field("region_code", "string", "BPS region code", label_id="Kode wilayah"),
        Field("grdp_billion_idr", "float64", "PDRB ADHK 2010", unit="billion IDR"),
    ]
    schema = pa_schema(fields, "test_table", "1.0")
    df = pd.DataFrame({"region_code": ["64", "00"], "grdp_billion_idr": [537630.0, None]})
    table = frame_to_table(df, schema)
    st = Storage(tmp_path)
    write_table(st, "processed/t.parquet", table, {"run_id": "r1"})
    back = read_frame(st, "processed/t.parquet")
    assert back["region_code"].tolist() == ["64", "00"]
    meta = file_metadata(st, "processed/t.parquet")
    assert meta["schema_version"] == "1.0" and meta["run_id"] == "r1"
    import pyarrow.parquet as pq

    f = pq.read_schema(st.local_path("processed/t.parquet")).field("grdp_billion_idr")
    assert f.metadata[b"unit"] == b"billion IDR"
    write_partition(st, "processed/ds", "period=2025-08", table, {"run_id": "r2"})
    assert st.listdir("processed/ds/period=2025-08") == ["part-0.parquet"]


def test_frame_to_table_refuses_mismatched_columns():
    import pandas as pd

    schema = pa_schema([Field("a", "int64", "a")], "t", "1")
    with pytest.raises(ValueError, match="extra"):
        frame_to_table(pd.DataFrame({"a": [1], "b": [2]}), schema)
    assert frame_to_table(pd.DataFrame({"a": [1]}), schema).schema.field("a").type == pa.int64()


def test_cli_help_lists_run():
    from typer.testing import CliRunner

    from flows.cli import app

    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0 and "run" in res.output
