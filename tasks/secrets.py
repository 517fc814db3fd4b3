"""Secrets never reach logs, errors or files: a value type that hides itself, and redaction."""

from __future__ import annotations

import re


class Secret:
    """Holds a secret string; ``str()``/``repr()`` show ``***`` so it cannot leak by formatting."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


_KEY_IN_PATH = re.compile(r"(/key/)[^/?#]+", re.IGNORECASE)
_KEY_IN_QUERY = re.compile(r"([?&]key=)[^&#]+", re.IGNORECASE)


def redact(text: str, *secrets: str | Secret | None) -> str:
    """Remove every given secret value and any ``key`` URL parameter from ``text``."""
    out = _KEY_IN_QUERY.sub(r"\1***", _KEY_IN_PATH.sub(r"\1***", text))
    for s in secrets:
        val = s.get() if isinstance(s, Secret) else s
        if val:
            out = out.replace(val, "***")
    return out
