"""Typed errors of the BPS WebAPI, and the one place that turns an error body into one of them.

BPS answers application errors with HTTP 200 and ``{"status": "Error", "message": ...}`` (SPEC §6), so the
client and the decoder both classify bodies here. Messages are for a data engineer; callers pass them
through :func:`tasks.secrets.redact` before they are raised, so the key never reaches a traceback.
"""

from __future__ import annotations

import re

_YEAR_LIMIT = re.compile(r"maximum allowed number of years for the 'th' parameter is (\d+)", re.IGNORECASE)
_NOT_AVAILABLE = {"not-available", "list-not-available", "unavailable"}


class BpsApiError(Exception):
    """Base of every BPS WebAPI failure; ``url`` is always redacted (``key/***``)."""

    def __init__(self, message: str, *, url: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status_code = status_code


class BpsAuthError(BpsApiError):
    """The key was refused ("re-check your key", "User not found")."""


class BpsParameterError(BpsApiError):
    """A parameter is missing or invalid (e.g. "Parameter Domain is Missing.")."""


class BpsYearLimitError(BpsParameterError):
    """Too many years in ``th``; ``max_years`` is the limit BPS stated in its message."""

    def __init__(self, message: str, max_years: int, **kw) -> None:
        super().__init__(message, **kw)
        self.max_years = max_years


class BpsNotAvailableError(BpsApiError):
    """``data-availability`` is ``not-available``/``list-not-available``: the request was fine, there is no data."""


class BpsWafBlockedError(BpsApiError):
    """An HTML page came back instead of JSON (the BPS perimeter WAF block page, any HTTP status)."""


class BpsTransportError(BpsApiError):
    """429/5xx/timeouts/connection errors persisted after every retry."""


def is_not_available(body: dict) -> bool:
    return str(body.get("data-availability", "")).strip().lower() in _NOT_AVAILABLE


def error_from_body(
    body: object, *, url: str | None = None, status_code: int | None = None
) -> BpsApiError | None:
    """The typed error a decoded JSON body stands for, or ``None`` when it carries data.

    The message text from BPS is kept verbatim (it is what one searches for); ``url`` must already be redacted.
    """
    where = f" ({url})" if url else ""
    if not isinstance(body, dict):
        return BpsApiError(
            f"BPS WebAPI answered with JSON that is not an object ({type(body).__name__}){where}",
            url=url,
            status_code=status_code,
        )
    status = str(body.get("status", "")).strip()
    if not status and isinstance(body.get("error"), str):
        status = "Error"  # the documentation's `{"error":"UserNotFound"}` shape (SPEC §6)
    if status and status.upper() != "OK":
        message = str(body.get("message2") or body.get("message") or body.get("error") or "").strip()
        shown = message or "(empty message)"
        kw = {"url": url, "status_code": status_code}
        m = _YEAR_LIMIT.search(message)
        if m:
            return BpsYearLimitError(
                f"BPS WebAPI refused the th range: {shown}{where}", int(m.group(1)), **kw
            )
        low = message.lower()
        if "key" in low or "user not found" in low or "usernotfound" in low:
            return BpsAuthError(
                f"BPS WebAPI refused the API key: {shown}{where}. Check BPS_API_KEY (an App ID from "
                "webapi.bps.go.id).",
                **kw,
            )
        if "parameter" in low or "is not recognized" in low or "not implemented" in low:
            return BpsParameterError(f"BPS WebAPI rejected a parameter: {shown}{where}", **kw)
        if not message and is_not_available(body):
            return BpsNotAvailableError(
                f"BPS WebAPI has no data for this request (data-availability "
                f"{body.get('data-availability')!r}){where}",
                **kw,
            )
        return BpsApiError(f"BPS WebAPI returned status {status!r}: {shown}{where}", **kw)
    if is_not_available(body):
        return BpsNotAvailableError(
            f"BPS WebAPI has no data for this request (data-availability {body.get('data-availability')!r}){where}",
            url=url,
            status_code=status_code,
        )
    return None
