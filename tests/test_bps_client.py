"""The BPS WebAPI client against the local server (tests/bps_server.py): chunking, retries, failure modes."""

from __future__ import annotations

import json
import logging
import traceback

import pandas as pd
import pytest
import requests

from tasks.bps_client import (
    BpsApiError,
    BpsAuthError,
    BpsClient,
    BpsNotAvailableError,
    BpsParameterError,
    BpsTransportError,
    BpsWafBlockedError,
    BpsYearLimitError,
)
from tasks.bps_decode import decode_data_response
from tasks.secrets import Secret
from tests.bps_server import (
    FIXTURES,
    INVALID_KEY_MESSAGE,
    TEST_KEY,
    VAR533_FILE,
    Reply,
    bps_server,  # noqa: F401  (fixture)
    colliding_body,
    th_limit_message,
)

WRONG_KEY = "feedfacefeedfacefeedfacefeedface"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(bps_server, sleeps):  # noqa: F811
    c = BpsClient(
        bps_server.base_url, Secret(TEST_KEY), timeout=2, retries=3, backoff=0.01, sleep=sleeps.append
    )
    yield c
    c.close()


def _merged_cells(responses) -> pd.DataFrame:
    return pd.concat([decode_data_response(r.json()).cells for r in responses], ignore_index=True)


def test_fetch_data_chunks_three_years_on_domain_0000_and_merges_back(client, bps_server):  # noqa: F811
    responses = client.fetch_data("0000", 533, list(range(2010, 2024)))
    ths = [r["params"]["th"] for r in bps_server.data_requests()]
    assert ths == ["110:112", "113:115", "116:118", "119:121", "122:123"]
    first = bps_server.data_requests()[0]
    assert first["path"] == f"/v1/api/list/model/data/lang/ind/domain/0000/var/533/th/110:112/key/{TEST_KEY}/"
    assert "Mozilla" in first["user_agent"] and first["accept"] == "application/json"
    assert len(responses) == 5 and len({r.retrieval_id for r in responses}) == 1
    cells = _merged_cells(responses)
    assert len(cells) == 35 * 7 * 14 * 5 and cells["present"].all()
    kaltim = cells[
        (cells.vervar_code == "6400")
        & (cells.year == 2023)
        & (cells.turvar_code == "1550")
        & (cells.turtahun_code == "35")
    ]
    assert kaltim["value"].tolist() == [pytest.approx(537_630_006.81)]
    r = responses[0]
    assert r.url.endswith("/th/110:112/key/***/") and TEST_KEY not in r.url
    assert r.params == {"model": "data", "lang": "ind", "domain": "0000", "var": "533", "th": "110:112"}
    assert r.status_code == 200 and r.fetched_at.endswith("Z")
    import hashlib

    assert r.sha256 == hashlib.sha256(r.body).hexdigest()


def test_year_limit_error_resplits_with_the_number_from_the_message(client, bps_server):  # noqa: F811
    bps_server.th_limits["0000"] = 2
    responses = client.fetch_data("0000", 533, [2017, 2018, 2019, 2020, 2021])
    ths = [r["params"]["th"] for r in bps_server.data_requests()]
    # the refused 3-year chunk, then 2-year chunks (the limit is remembered for the rest)
    assert ths == ["117:119", "117:118", "119", "120:121"]
    years = sorted(_merged_cells(responses)["year"].unique())
    assert years == [2017, 2018, 2019, 2020, 2021]


def test_year_limit_of_one_and_lists_for_gaps(client, bps_server):  # noqa: F811
    bps_server.th_limits["0000"] = 1
    responses = client.fetch_data("0000", 533, [2015, 2019])
    ths = [r["params"]["th"] for r in bps_server.data_requests()]
    assert ths == ["115;119", "115", "119"]
    assert len(responses) == 2


def test_province_domain_chunks_two_years_and_filters(client, bps_server):  # noqa: F811
    body = json.loads(VAR533_FILE.read_text(encoding="utf-8"))
    bps_server.add_data(42, body | {"var": [dict(body["var"][0], val=42)]}, domain="6400")
    # keys in the registered body still name var 533, so nothing matches: the client does not care, the
    # decoder would report it; here only the requests matter
    client.fetch_data("6400", 42, [2020, 2021, 2022], turvar=[1550, 1544], vervar=6400, turth=35)
    paths = [r["path"] for r in bps_server.data_requests()]
    assert paths[0] == (
        f"/v1/api/list/model/data/lang/ind/domain/6400/var/42/th/120:121/turvar/1550;1544/vervar/6400/turth/35/key/{TEST_KEY}/"
    )
    assert [r["params"]["th"] for r in bps_server.data_requests()] == ["120:121", "122"]


def test_limit_error_that_cannot_be_split_is_raised(client, bps_server):  # noqa: F811
    bps_server.script(Reply.th_limit(3, 1), var=533)
    with pytest.raises(BpsYearLimitError) as info:
        client.fetch_data("0000", 533, [2020])
    assert info.value.max_years == 3
    assert th_limit_message(3, 1) in str(info.value)


def test_invalid_key_is_an_auth_error_without_retries_and_without_the_key(bps_server, sleeps, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    bad = BpsClient(bps_server.base_url, Secret(WRONG_KEY), timeout=2, backoff=0.01, sleep=sleeps.append)
    with pytest.raises(BpsAuthError) as info:
        bad.fetch_data("0000", 533, [2020])
    assert INVALID_KEY_MESSAGE in str(info.value) and "key" in str(info.value)
    assert INVALID_KEY_MESSAGE == json.loads((FIXTURES / "error_invalid_key.json").read_text())["message"]
    assert len(bps_server.requests) == 1 and sleeps == []
    for text in (str(info.value), repr(info.value), info.value.url, repr(bad), caplog.text):
        assert WRONG_KEY not in text
    assert "key/***" in info.value.url
    assert WRONG_KEY not in "".join(traceback.format_exception(info.value))


def test_user_not_found_is_an_auth_error(client, bps_server):  # noqa: F811
    bps_server.script(Reply(body={"status": "Error", "message": "User not found"}), var=533)
    with pytest.raises(BpsAuthError, match="User not found"):
        client.fetch_data("0000", 533, [2020])


def test_missing_parameter_is_a_parameter_error(client, bps_server):  # noqa: F811
    bps_server.script(Reply(body={"status": "Error", "message": "Parameter Domain is Missing."}), model="var")
    with pytest.raises(BpsParameterError, match="Parameter Domain is Missing"):
        client.list_model("var", "0000")


@pytest.mark.parametrize("status", [403, 200])
def test_html_waf_page_is_blocked_error_without_retries(client, bps_server, sleeps, status):  # noqa: F811
    bps_server.script(Reply.waf(status), var=533)
    with pytest.raises(BpsWafBlockedError) as info:
        client.fetch_data("0000", 533, [2020])
    assert info.value.status_code == status and "HTML" in str(info.value)
    assert len(bps_server.requests) == 1 and sleeps == []


def test_non_browser_user_agent_meets_the_waf(bps_server, sleeps):  # noqa: F811
    c = BpsClient(
        bps_server.base_url, Secret(TEST_KEY), backoff=0.01, sleep=sleeps.append, user_agent="python-requests"
    )
    with pytest.raises(BpsWafBlockedError):
        c.fetch_data("0000", 533, [2020])


def test_server_errors_are_retried_with_exponential_backoff(client, bps_server, sleeps, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    bps_server.script(Reply.server_error(500), Reply.server_error(500), var=533)
    responses = client.fetch_data("0000", 533, [2023])
    assert len(bps_server.requests) == 3 and sleeps == [0.01, 0.02]
    assert decode_data_response(responses[0].json()).cells["year"].unique().tolist() == [2023]
    assert "HTTP 500" in caplog.text and TEST_KEY not in caplog.text
    # urllib3's own DEBUG request lines carry the path with the key; they are redacted too
    assert any(r.name.startswith("urllib3") and "/key/***/" in r.getMessage() for r in caplog.records)


def test_rate_limit_honours_retry_after(client, bps_server, sleeps):  # noqa: F811
    bps_server.script(Reply.rate_limited(retry_after=2), var=533)
    client.fetch_data("0000", 533, [2023])
    assert sleeps == [2.0]


def test_timeout_is_retried(bps_server, sleeps):  # noqa: F811
    bps_server.script(Reply.timeout(1.5), var=533)
    c = BpsClient(
        bps_server.base_url, Secret(TEST_KEY), timeout=0.3, retries=2, backoff=0.01, sleep=sleeps.append
    )
    responses = c.fetch_data("0000", 533, [2023])
    assert len(responses) == 1 and len(bps_server.requests) == 2 and sleeps == [0.01]


def test_service_down_ends_in_transport_error(client, bps_server, sleeps, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    bps_server.mode = "down"
    with pytest.raises(BpsTransportError) as info:
        client.fetch_data("0000", 533, [2023])
    assert len(bps_server.requests) == 4 and sleeps == [0.01, 0.02, 0.04]
    assert "HTTP 503" in str(info.value)
    assert TEST_KEY not in str(info.value) and TEST_KEY not in caplog.text


def test_connection_refused_ends_in_transport_error_without_key(sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    with socket_closed_port() as port:
        c = BpsClient(
            f"http://127.0.0.1:{port}/v1/api",
            Secret(TEST_KEY),
            timeout=1,
            retries=1,
            backoff=0.01,
            sleep=sleeps.append,
        )
        with pytest.raises(BpsTransportError) as info:
            c.fetch_data("0000", 533, [2023])
    assert "connection failed" in str(info.value)
    assert TEST_KEY not in "".join(traceback.format_exception(info.value))
    assert TEST_KEY not in str(info.value) and TEST_KEY not in caplog.text


def socket_closed_port():
    import contextlib
    import socket

    @contextlib.contextmanager
    def cm():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        yield port

    return cm()


def test_not_available_years_are_skipped_and_all_empty_raises(client, bps_server):  # noqa: F811
    responses = client.fetch_data("0000", 533, [2022, 2023, 2024, 2025])
    assert [r["params"]["th"] for r in bps_server.data_requests()] == ["122:124", "125"]
    assert len(responses) == 1
    with pytest.raises(BpsNotAvailableError):
        client.fetch_data("0000", 533, [2030])
    bps_server.script(Reply.not_available(), var=533)
    with pytest.raises(BpsNotAvailableError):
        client.fetch_data("0000", 533, [2020])


def test_colliding_body_passes_through_to_the_decoder(client, bps_server):  # noqa: F811
    body = colliding_body()
    bps_server.add_data(1, body)
    (resp,) = client.fetch_data("0000", 1, [2023])
    t = decode_data_response(resp.json())
    assert [c["key"] for c in t.collisions] == ["11111230"]
    assert int(t.cells["present"].sum()) == 2


def test_list_model_iterates_all_pages(client, bps_server):  # noqa: F811
    items = client.list_model("var", "0000")
    assert len(items) == 13
    assert [r["params"]["page"] for r in bps_server.requests] == ["1", "2"]
    assert bps_server.paths[1] == f"/v1/api/list/model/var/lang/ind/domain/0000/page/2/key/{TEST_KEY}/"
    assert [it["var_id"] for it in items][-3:] == [533, 2194, 543]
    th = client.list_model("th", "0000")
    assert {"th_id": 123, "th": 2023} in th and len(th) == 15


def test_find_vars_and_empty_lists(client, bps_server):  # noqa: F811
    found = client.find_vars("0000", "pdrb")
    assert [it["var_id"] for it in found] == [533, 2194]
    assert bps_server.requests[0]["params"]["keyword"] == "pdrb"
    assert client.find_vars("0000", "jam kerja") == []
    assert client.list_model("subject", "6400") == []


def test_server_accepts_query_and_mixed_forms(bps_server):  # noqa: F811
    headers = {"User-Agent": "Mozilla/5.0", "Accept": "application/json"}
    base = bps_server.base_url
    path_form = requests.get(
        f"{base}/list/model/data/domain/0000/var/533/th/123/key/{TEST_KEY}", headers=headers, timeout=5
    )
    query_form = requests.get(
        f"{base}/list?model=data&domain=0000&var=533&th=123&key={TEST_KEY}", headers=headers, timeout=5
    )
    mixed_form = requests.get(
        f"{base}/list/model/data/var/533?domain=0000&lang=ind&th=123&key={TEST_KEY}",
        headers=headers,
        timeout=5,
    )
    assert path_form.json() == query_form.json() == mixed_form.json()
    assert [t["val"] for t in path_form.json()["tahun"]] == [123]
    bps_server.require_th = False
    whole = requests.get(
        f"{base}/list/model/data/domain/0000/var/533/key/{TEST_KEY}/", headers=headers, timeout=5
    )
    assert len(decode_data_response(whole.json()).unmatched_keys) == 980
    bps_server.require_th = True
    missing_th = requests.get(
        f"{base}/list/model/data/domain/0000/var/533/key/{TEST_KEY}/", headers=headers, timeout=5
    )
    assert "'th' parameter is required" in missing_th.json()["message"]


def test_client_rejects_non_json_and_http_errors(client, bps_server):  # noqa: F811
    bps_server.script(Reply(status=200, body="not json", content_type="application/json"), var=533)
    with pytest.raises(BpsApiError, match="not JSON"):
        client.fetch_data("0000", 533, [2020])
    bps_server.script(Reply(status=404, body={"error": "UserNotFound"}), var=533)
    with pytest.raises(BpsAuthError, match="UserNotFound"):
        client.fetch_data("0000", 533, [2020])
    bps_server.script(
        Reply(status=404, body="404 - Unable to resolve the request", content_type="text/plain"), var=533
    )
    with pytest.raises(BpsApiError, match="HTTP 404"):
        client.fetch_data("0000", 533, [2020])


def test_empty_key_is_refused_before_any_request():
    with pytest.raises(BpsAuthError, match="BPS_API_KEY"):
        BpsClient("http://127.0.0.1:9/v1/api", Secret(""))
