"""A client for the BPS WebAPI (webapi.bps.go.id/v1/api) as SPEC.md describes it.

- Requests use the path form ``/list/model/data/lang/ind/domain/{d}/var/{v}/th/{th}/.../key/{key}/`` with a
  browser-like User-Agent (the BPS WAF answers other agents with an HTML block page).
- Transient failures (429, 5xx, timeouts, dropped connections) are retried with exponential back-off;
  application errors (HTTP 200 with ``status: Error``) are not, except the ``th`` year limit, which is
  handled by re-splitting the years with the limit BPS states in its message.
- The key is a :class:`tasks.secrets.Secret`; every URL kept, logged or raised is redacted (``key/***``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

import requests

from tasks.bps_errors import (
    BpsApiError,
    BpsAuthError,
    BpsNotAvailableError,
    BpsParameterError,
    BpsTransportError,
    BpsWafBlockedError,
    BpsYearLimitError,
    error_from_body,
    is_not_available,
)
from tasks.logs import get_logger
from tasks.secrets import Secret, redact

__all__ = [
    "BpsApiError",
    "BpsAuthError",
    "BpsClient",
    "BpsNotAvailableError",
    "BpsParameterError",
    "BpsTransportError",
    "BpsWafBlockedError",
    "BpsYearLimitError",
    "RawResponse",
    "BROWSER_USER_AGENT",
    "DEFAULT_BASE_URL",
    "th_id",
]

DEFAULT_BASE_URL = "https://webapi.bps.go.id/v1/api"
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 "
    "produktivitas/0.1"
)
YEAR_ID_OFFSET = 1900  # th id = year - 1900 in every real response seen (SPEC §3)
MAX_PAGES = 1000  # a list model that claims more pages than this is broken, not long
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def th_id(year: int) -> int:
    return int(year) - YEAR_ID_OFFSET


@dataclass
class RawResponse:
    """One HTTP answer, kept byte for byte; ``url`` is redacted and ``params`` has no key."""

    url: str
    params: dict
    fetched_at: str
    status_code: int
    body: bytes = field(repr=False)
    sha256: str
    retrieval_id: str = ""

    def json(self) -> object:
        return json.loads(self.body)


class _RedactUrls(logging.Filter):
    """urllib3 logs every request line at DEBUG, key included (``GET /v1/api/.../key/KEY/``); redact it."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        safe = redact(text)
        if safe != text:
            record.msg, record.args = safe, None
        return True


_URL_FILTER = _RedactUrls()
for _name in ("urllib3.connectionpool", "urllib3"):
    if _URL_FILTER not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_URL_FILTER)


def _looks_like_html(resp: requests.Response) -> bool:
    ctype = resp.headers.get("Content-Type", "").lower()
    head = resp.content[:256].lstrip().lower()
    return "html" in ctype or head.startswith((b"<!doctype", b"<html", b"<"))


def _join(value: int | str | Iterable[int | str]) -> str:
    if isinstance(value, (int, str)):
        return str(value)
    return ";".join(str(v) for v in value)


def _th_expr(ids: list[int]) -> str:
    """``a:b`` for a consecutive run, ``a;b;c`` otherwise (both count the same against the limit)."""
    if len(ids) == 1:
        return str(ids[0])
    if ids == list(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}:{ids[-1]}"
    return ";".join(str(i) for i in ids)


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


class BpsClient:
    """``BpsClient(base_url, Secret(key))``; see :meth:`fetch_data` and :meth:`list_model`."""

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        timeout: float = 30,
        retries: int = 4,
        backoff: float = 1.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = BROWSER_USER_AGENT,
    ) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._key = api_key if isinstance(api_key, Secret) else Secret(str(api_key))
        if not self._key:
            raise BpsAuthError(
                "No BPS WebAPI key given (set BPS_API_KEY); the WebAPI refuses requests without one."
            )
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.session = session or requests.Session()
        self.sleep = sleep
        self.headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._year_limits: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"BpsClient({self.base_url!r}, key=***)"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> BpsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- URLs ------------------------------------------------------------------------------------
    def _url(self, family: str, params: dict[str, object]) -> tuple[str, str]:
        """The real URL and its redacted twin; pairs go in the path, the key last (SPEC §1.1)."""
        parts = [family]
        for name, value in params.items():
            parts += [name, quote(str(value), safe=";:,")]
        tail = "/".join(parts)
        real = f"{self.base_url}/{tail}/key/{quote(self._key.get(), safe='')}/"
        return real, f"{self.base_url}/{tail}/key/***/"

    def _safe(self, text: str) -> str:
        return redact(text, self._key)

    # --- one request with retries ----------------------------------------------------------------
    def _get(self, family: str, params: dict[str, object]) -> tuple[RawResponse, object]:
        url, shown = self._url(family, params)
        log = get_logger()
        last_problem = ""
        wait_hint = 0.0
        for attempt in range(self.retries + 1):
            if attempt:
                delay = max(self.backoff * 2 ** (attempt - 1), wait_hint)
                log.warning(
                    "BPS WebAPI: %s; retry %d of %d in %.2f s (%s)",
                    last_problem,
                    attempt,
                    self.retries,
                    delay,
                    shown,
                )
                self.sleep(delay)
            wait_hint = 0.0
            try:
                resp = self.session.get(url, headers=self.headers, timeout=self.timeout)
            except requests.Timeout:
                last_problem = f"no answer within {self.timeout} s"
                continue
            except requests.ConnectionError as exc:
                last_problem = f"connection failed ({self._safe(type(exc).__name__ + ': ' + str(exc))[:300]})"
                continue
            except requests.RequestException as exc:
                raise BpsTransportError(
                    f"BPS WebAPI request failed: {self._safe(str(exc))[:300]} ({shown})", url=shown
                ) from None
            if resp.status_code in _RETRY_STATUS:
                last_problem = f"HTTP {resp.status_code}"
                retry_after = resp.headers.get("Retry-After", "").strip()
                # Honour the server's own wait, but never let it stall a run for long.
                wait_hint = min(float(retry_after), 60.0) if retry_after.isdigit() else 0.0
                continue
            return self._accept(resp, shown, params)
        raise BpsTransportError(
            f"BPS WebAPI did not answer usefully after {self.retries + 1} attempts: {last_problem} ({shown}). "
            "The service may be down or rate-limiting; the stored responses can be used instead.",
            url=shown,
        )

    def _accept(
        self, resp: requests.Response, shown: str, params: dict[str, object]
    ) -> tuple[RawResponse, object]:
        if _looks_like_html(resp):
            raise BpsWafBlockedError(
                f"BPS WebAPI returned an HTML page (HTTP {resp.status_code}) instead of JSON ({shown}): most likely the "
                "BPS perimeter WAF blocked the request. Check the User-Agent, or the network/IP the run uses.",
                url=shown,
                status_code=resp.status_code,
            )
        try:
            body = json.loads(resp.content)
        except ValueError:
            raise BpsApiError(
                f"BPS WebAPI returned HTTP {resp.status_code} with a body that is not JSON ({shown}): "
                f"{self._safe(resp.content[:200].decode('utf-8', 'replace'))!r}",
                url=shown,
                status_code=resp.status_code,
            ) from None
        err = error_from_body(body, url=shown, status_code=resp.status_code)
        if err is None and resp.status_code != 200:
            err = BpsApiError(
                f"BPS WebAPI returned HTTP {resp.status_code} ({shown})",
                url=shown,
                status_code=resp.status_code,
            )
        if err is not None and not isinstance(err, BpsNotAvailableError):
            err.message = self._safe(err.message)
            err.args = (err.message,)
            raise err
        fetched = datetime.now(UTC)
        raw = RawResponse(
            url=shown,
            params={k: str(v) for k, v in params.items()},
            fetched_at=fetched.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            status_code=resp.status_code,
            body=resp.content,
            sha256=hashlib.sha256(resp.content).hexdigest(),
        )
        get_logger().info("BPS WebAPI: %s -> HTTP %d, %d bytes", shown, resp.status_code, len(resp.content))
        return raw, body

    # --- dynamic-table data ----------------------------------------------------------------------
    def fetch_data(
        self,
        domain: str,
        var: int,
        years: list[int],
        turvar: int | str | Iterable[int | str] | None = None,
        vervar: int | str | Iterable[int | str] | None = None,
        turth: int | str | Iterable[int | str] | None = None,
    ) -> list[RawResponse]:
        """All ``model=data`` responses for ``years`` of one table, in as few requests as BPS allows.

        Years are sent as th ids (year - 1900) in chunks of at most 2 (3 on domain ``0000``); when BPS
        states a lower limit the chunk is split again with that limit. Chunks BPS has no data for are
        skipped (logged); :class:`BpsNotAvailableError` only when no chunk had data.
        """
        domain = str(domain)
        ids = sorted({th_id(y) for y in years})
        if not ids:
            raise BpsParameterError(f"fetch_data(domain={domain}, var={var}) needs at least one year")
        limit = self._year_limits.get(domain, 3 if domain == "0000" else 2)
        extra = {
            name: _join(v)
            for name, v in (("turvar", turvar), ("vervar", vervar), ("turth", turth))
            if v is not None
        }
        retrieval_id = uuid.uuid4().hex
        pending = _chunks(ids, limit)
        out: list[RawResponse] = []
        empty: list[str] = []
        log = get_logger()
        while pending:
            chunk = pending.pop(0)
            params = {
                "model": "data",
                "lang": "ind",
                "domain": domain,
                "var": int(var),
                "th": _th_expr(chunk),
            } | extra
            try:
                raw, body = self._get("list", params)
            except BpsYearLimitError as exc:
                if exc.max_years < 1 or exc.max_years >= len(chunk):
                    raise
                log.warning(
                    "BPS WebAPI allows at most %d years per request on domain %s; splitting th %s",
                    exc.max_years,
                    domain,
                    params["th"],
                )
                self._year_limits[domain] = exc.max_years
                pending = _chunks(chunk, exc.max_years) + pending
                continue
            if is_not_available(body):
                empty.append(str(params["th"]))
                log.info("BPS WebAPI: no data for domain %s var %s th %s", domain, var, params["th"])
                continue
            raw.retrieval_id = retrieval_id
            out.append(raw)
        if not out:
            raise BpsNotAvailableError(
                f"BPS WebAPI has no data for domain {domain} var {var} years {min(years)}-{max(years)} "
                f"(th {', '.join(empty)})"
            )
        return out

    # --- catalogue (list) models -----------------------------------------------------------------
    def list_model(self, model: str, domain: str, **params: object) -> list[dict]:
        """Every item of a paginated list model (var, th, turth, vervar, turvar, subject, unit, ...)."""
        base = {"model": model, "lang": params.pop("lang", "ind"), "domain": str(domain)}
        base |= {k: v for k, v in params.items() if v is not None}
        items: list[dict] = []
        page, pages = 1, 1
        while page <= pages:
            raw, body = self._get("list", base | {"page": page})
            if is_not_available(body):
                break
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list) or len(data) < 2 or not isinstance(data[1], list):
                raise BpsApiError(
                    f"BPS WebAPI list answer has no [pagination, items] data ({raw.url})", url=raw.url
                )
            info = data[0] if isinstance(data[0], dict) else {}
            try:
                pages = min(int(info.get("pages", 1) or 1), MAX_PAGES)
            except (TypeError, ValueError):
                pages = 1
            items.extend(x for x in data[1] if isinstance(x, dict))
            page += 1
        return items

    def find_vars(self, domain: str, keyword: str) -> list[dict]:
        """Variables (dynamic tables) of ``domain`` whose title matches ``keyword`` (BPS's own search)."""
        return self.list_model("var", domain, keyword=keyword)
