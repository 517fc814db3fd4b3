"""A local BPS WebAPI stand-in (a real HTTP server on 127.0.0.1) for tests.

Use it from any test module::

    from tests.bps_server import TEST_KEY, Reply, bps_server  # noqa: F401  (the fixture)

    def test_x(bps_server):
        client = BpsClient(bps_server.base_url, Secret(TEST_KEY), timeout=2, backoff=0.01)
        bps_server.script(Reply.server_error(500), Reply.server_error(500), var=533)   # then the real answer
        bps_server.mode = "down"                                                         # 503 for everything

It behaves like SPEC.md describes the real service:
- parameters in the path (``/list/model/data/domain/0000/.../key/K/``), the query string, or both (merged);
- application errors as HTTP 200 ``{"status": "Error", "message": ...}``: a wrong key, a missing ``th``, too many
  years in ``th`` (3 on domain ``0000``, 2 elsewhere; change ``th_limits``);
- a non-browser User-Agent gets the HTML WAF block page (403);
- var 533 on domain 0000 is the real bundled body, sliced to the requested th ids (and vervar/turvar) the way
  the real API only returns the requested years; without ``th`` filtering (``require_th=False``) it is served
  whole, with its 980 keys outside the dimension lists;
- ``model=var`` / ``model=th`` lists paginated 10 per page; other list models answer list-not-available.
Scripted replies (``script``) are consumed first, per matching request, so a test can stage 500, 500, OK.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "bps"
VAR533_FILE = (
    ROOT / "data/raw/bps/snapshot/webapi/domain0000_var533_pdrb_adhk_pengeluaran_provinsi_2010_2024Q2.json"
)
TEST_KEY = "0123456789abcdef0123456789abcdef"
API_PREFIX = "/v1/api"

INVALID_KEY_MESSAGE = (
    "You are not Allowed to take this action. Please re-check your key"  # SPEC sample, verbatim
)
TH_REQUIRED_MESSAGE = (
    "'th' parameter is required and must be an integer, separated by colon (:) for range or semicolon (;) "
    "for multiple values."
)
WAF_PAGE = (
    "<!DOCTYPE html><html><head><title>Perimeter WAF Block</title></head><body><h1>Request blocked</h1>"
    "<p>Event ID 110000003, type: signature</p></body></html>"
)


def th_limit_message(limit: int, provided: int) -> str:
    # SPEC §9, verbatim apart from the two numbers.
    return (
        f"The maximum allowed number of years for the 'th' parameter is {limit}. You provided {provided}. "
        "Please reduce the number of years accordingly."
    )


@dataclass
class Reply:
    """One scripted HTTP answer; ``delay`` makes the server wait before answering (client timeouts)."""

    status: int = 200
    body: bytes | dict | list | str = b""
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")

    @classmethod
    def json_body(cls, body: dict, status: int = 200) -> Reply:
        return cls(status=status, body=body)

    @classmethod
    def invalid_key(cls) -> Reply:
        return cls(body={"status": "Error", "message": INVALID_KEY_MESSAGE})

    @classmethod
    def th_limit(cls, limit: int, provided: int) -> Reply:
        return cls(body={"status": "Error", "message": th_limit_message(limit, provided)})

    @classmethod
    def waf(cls, status: int = 403) -> Reply:
        return cls(status=status, body=WAF_PAGE, content_type="text/html; charset=utf-8")

    @classmethod
    def server_error(cls, status: int = 500) -> Reply:
        return cls(status=status, body="Internal Server Error", content_type="text/plain")

    @classmethod
    def rate_limited(cls, retry_after: int = 0) -> Reply:
        return cls(
            status=429,
            body="Too Many Requests",
            content_type="text/plain",
            headers={"Retry-After": str(retry_after)},
        )

    @classmethod
    def timeout(cls, delay: float) -> Reply:
        """Sleep longer than the client's timeout, then answer with an (unread) error."""
        return cls(status=504, body="late", content_type="text/plain", delay=delay)

    @classmethod
    def not_available(cls) -> Reply:
        return cls(body={"status": "OK", "data-availability": "not-available", "data": ""})

    @classmethod
    def list_not_available(cls) -> Reply:
        return cls(body={"status": "OK", "data-availability": "list-not-available", "data": ""})


def parse_request_path(raw_path: str) -> tuple[str | None, dict[str, str]]:
    """``(family, params)`` from a request path: ``/name/value`` pairs after the family merged with the query."""
    parts = urlsplit(raw_path)
    path = parts.path
    if not path.startswith(API_PREFIX + "/"):
        return None, {}
    segments = [unquote(s) for s in path[len(API_PREFIX) + 1 :].rstrip("/").split("/")]
    family, rest = segments[0], segments[1:]
    params: dict[str, str] = {}
    for i in range(0, len(rest) - 1, 2):
        params[rest[i]] = rest[i + 1]
    params.update(dict(parse_qsl(parts.query, keep_blank_values=True)))
    return family, params


def parse_th(expr: str) -> list[int]:
    """``"110"``, ``"110;112"``, ``"110:112"`` (and mixtures) as a list of ids; raises ValueError otherwise."""
    ids: list[int] = []
    for part in expr.split(";"):
        part = part.strip()
        if ":" in part:
            a, b = part.split(":", 1)
            ids.extend(range(int(a), int(b) + 1))
        elif part:
            ids.append(int(part))
    if not ids:
        raise ValueError(expr)
    return ids


def slice_data_body(
    body: dict, th_ids: list[int], vervar: str | None = None, turvar: str | None = None
) -> dict:
    """The body as the real API answers a narrower request: only the requested years (and rows/columns)."""
    wanted = {str(i) for i in th_ids}
    out = dict(body)
    out["tahun"] = [t for t in body["tahun"] if str(t["val"]) in wanted]
    if vervar:
        keep = set(vervar.split(";"))
        out["vervar"] = [v for v in body["vervar"] if str(v["val"]) in keep]
    if turvar:
        keep = set(turvar.split(";"))
        out["turvar"] = [v for v in body["turvar"] if str(v["val"]) in keep]
    if not out["tahun"] or not out["vervar"] or not out["turvar"]:
        return {"status": "OK", "data-availability": "not-available", "data": ""}
    var = str(body["var"][0]["val"])
    content = body["datacontent"]
    keys = (
        f"{v['val']}{var}{t['val']}{y['val']}{q['val']}"
        for v in out["vervar"]
        for t in out["turvar"]
        for y in out["tahun"]
        for q in body.get("turtahun") or [{"val": 0}]
    )
    out["datacontent"] = {k: content[k] for k in keys if k in content}
    return out


class BpsServer:
    """The running server: ``base_url``, ``requests`` (what arrived, keys included) and the knobs below."""

    def __init__(self, valid_key: str = TEST_KEY) -> None:
        self.valid_key = valid_key
        self.requests: list[dict] = []
        self.mode: str | None = None  # "down": HTTP 503 for every request
        self.require_browser_ua = True
        self.require_th = True
        self.th_limits: dict[str, int] = {"0000": 3}
        self.default_th_limit = 2
        self.per_page = 10
        self._scripts: list[tuple[dict[str, str], list[Reply]]] = []
        self._data: dict[tuple[str, str], dict] = {}
        self._lists: dict[tuple[str, str], list[dict]] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- set-up ----------------------------------------------------------------------------------
    def add_data(self, var: int | str, body: dict, domain: str = "0000") -> None:
        self._data[(str(domain), str(var))] = body

    def add_list(self, model: str, items: list[dict], domain: str = "0000") -> None:
        self._lists[(model, str(domain))] = items

    def script(self, *replies: Reply, **match: object) -> None:
        """Answer the next requests whose params contain ``match`` (e.g. ``var=533``, ``model="var"``) with
        ``replies``, one per request, before the normal behaviour resumes."""
        with self._lock:
            self._scripts.append(({k: str(v) for k, v in match.items()}, list(replies)))

    @property
    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def data_requests(self) -> list[dict]:
        return [r for r in self.requests if r["params"].get("model") == "data"]

    # --- life cycle ------------------------------------------------------------------------------
    def start(self) -> BpsServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                try:
                    reply = server._handle(self.path, dict(self.headers.items()))
                except Exception:  # a broken test set-up must show up as an answer, not a dropped connection
                    reply = Reply(status=599, body=traceback.format_exc(), content_type="text/plain")
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.payload()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test); nothing to tell it

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="bps-test-server", daemon=True
        )
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}{API_PREFIX}"
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    # --- behaviour -------------------------------------------------------------------------------
    def _handle(self, raw_path: str, headers: dict[str, str]) -> Reply:
        family, params = parse_request_path(raw_path)
        with self._lock:
            self.requests.append(
                {
                    "path": raw_path,
                    "family": family,
                    "params": params,
                    "user_agent": headers.get("User-Agent", ""),
                    "accept": headers.get("Accept", ""),
                }
            )
            if self.mode == "down":
                return Reply.server_error(503)
            for match, replies in self._scripts:
                if replies and all(params.get(k) == v for k, v in match.items()):
                    return replies.pop(0)
        if self.require_browser_ua and "Mozilla" not in headers.get("User-Agent", ""):
            return Reply.waf(403)
        if family is None:
            return Reply(status=404, body="404 - Unable to resolve the request", content_type="text/plain")
        if params.get("key") != self.valid_key:
            return Reply.invalid_key()
        if family == "list" and params.get("model") == "data":
            return self._data_reply(params)
        if family == "list":
            return self._list_reply(params)
        return Reply(
            body={"status": "Error", "message": f"Model {params.get('model', '')} is not recognized"}
        )

    def _data_reply(self, params: dict[str, str]) -> Reply:
        domain, var = params.get("domain", ""), params.get("var", "")
        if not domain:
            return Reply(body={"status": "Error", "message": "Parameter Domain is Missing."})
        body = self._data.get((domain, var))
        if body is None and (domain, var) == ("0000", "533"):
            body = json.loads(VAR533_FILE.read_text(encoding="utf-8"))
            self._data[(domain, var)] = body
        th = params.get("th", "")
        if not th:
            if self.require_th:
                return Reply(body={"status": "Error", "message": TH_REQUIRED_MESSAGE})
            return Reply(body=body) if body is not None else Reply.not_available()
        try:
            ids = parse_th(th)
        except ValueError:
            return Reply(body={"status": "Error", "message": TH_REQUIRED_MESSAGE})
        limit = self.th_limits.get(domain, self.default_th_limit)
        if len(ids) > limit:
            return Reply.th_limit(limit, len(ids))
        if body is None:
            return Reply.not_available()
        return Reply(body=slice_data_body(body, ids, params.get("vervar"), params.get("turvar")))

    def _list_reply(self, params: dict[str, str]) -> Reply:
        model, domain = params.get("model", ""), params.get("domain", "")
        items = self._lists.get((model, domain))
        if items is None and model == "var" and domain == "0000":
            items = default_var_list()
        if items is None and model == "th" and domain == "0000":
            items = [{"th_id": y, "th": 1900 + y} for y in range(110, 125)]
        if not items:
            return Reply.list_not_available()
        keyword = params.get("keyword", "").strip().lower()
        if keyword:
            items = [it for it in items if keyword in str(it.get("title", "")).lower()]
        try:
            page = int(params.get("page", "1") or 1)
        except ValueError:
            page = 1
        pages = max(1, -(-len(items) // self.per_page))
        chunk = items[(page - 1) * self.per_page : page * self.per_page]
        if not chunk:
            return Reply.list_not_available()
        info = {
            "page": page,
            "pages": pages,
            "per_page": self.per_page,
            "count": len(chunk),
            "total": len(items),
        }
        return Reply(body={"status": "OK", "data-availability": "available", "data": [info, chunk]})


def colliding_body(var: int = 1) -> dict:
    """A constructed ``model=data`` body (no real figures) where vervar 1 + var 1 + turvar 11 and
    vervar 11 + var 1 + turvar 1 build the same key ``11111230``; register it with ``add_data(1, ...)``."""
    return {
        "status": "OK",
        "data-availability": "available",
        "var": [{"val": var, "label": "Tabel uji (sintetis)", "unit": "", "decimal": 0}],
        "turvar": [{"val": 1, "label": "A"}, {"val": 11, "label": "B"}],
        "labelvervar": "Wilayah",
        "vervar": [{"val": 1, "label": "X"}, {"val": 11, "label": "Y"}],
        "tahun": [{"val": 123, "label": "2023"}],
        "turtahun": [{"val": 0, "label": "Tahun"}],
        "datacontent": {"11111230": 5.0, "1111230": 1.0, "111111230": 2.0},
    }


def default_var_list() -> list[dict]:
    """13 ``model=var`` items: 10 placeholders (page 1) and the SPEC sample page 2 (533, 2194, 543)."""
    page1 = json.loads((FIXTURES / "list_var_page1.json").read_text(encoding="utf-8"))["data"][1]
    page2 = json.loads((FIXTURES / "list_var_page2.json").read_text(encoding="utf-8"))["data"][1]
    return page1 + page2


@pytest.fixture
def bps_server() -> Iterator[BpsServer]:
    """A fresh local BPS WebAPI on a random port; ``TEST_KEY`` is the valid key."""
    server = BpsServer().start()
    try:
        yield server
    finally:
        server.stop()
