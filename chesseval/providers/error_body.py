"""Reading an error body, whatever shape the server or a proxy in front of it gave it.

Shapes handled (the message is found first in ``error``, then ``detail``, ``message``, ``msg``):

- OpenAI and most proxies: ``{"error": {"message", "type", "code", "param"}}``; Anthropic:
  ``{"type": "error", "error": {"type", "message"}}``; Gemini: ``{"error": {"code", "message",
  "status", "details": [{"reason"}, {"violations"}, {"retryDelay"}]}}``;
- FastAPI, which vLLM, LiteLLM and most self-written servers use: ``{"detail": "Not Found"}``,
  ``{"detail": [{"loc", "msg", "type"}]}`` (request validation), ``{"detail": {...}}``;
- ``{"error": "text"}``, ``{"message": "text"}``, a JSON list of such bodies (Gemini's
  JSON-array stream), a body that is not JSON at all;
- an upstream error a proxy rewrapped: LiteLLM keeps the upstream body as text inside its own
  message (``"... - {'error': {'type': 'insufficient_quota', ...}}"``) under its own type
  (``throttling_error``); OpenRouter puts it in ``error.metadata.raw``.

:attr:`ErrorBody.codes` holds every ``code``/``type``/``status``/``reason`` value found at any
depth, and those quoted inside the body's strings (the rewrapped upstream ones), lowercased. Code
fields are what classify an error (quota, auth, rate limit); wording is the last resort.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

__all__ = ["ErrorBody", "parse_error_body", "QUOTA_CODES", "AUTH_CODES", "RATE_LIMIT_CODES", "QUOTA_WORDING"]

_CODE_KEYS = frozenset({"code", "type", "status", "reason", "error_code", "error_type"})
# A code quoted inside text: 'type': 'insufficient_quota' (Python repr) or "code":"insufficient_quota" (JSON).
_EMBEDDED_CODE = re.compile(r"""["']?\b(?:code|type|status|reason|error_code|error_type)["']?\s*[:=]\s*["']([A-Za-z][\w.\-]{1,80})["']""")
_MAX_DEPTH = 8

QUOTA_CODES = frozenset(
    {
        "insufficient_quota",
        "billing_hard_limit_reached",
        "billing_not_active",
        "billing_error",
        "credit_balance_exhausted",
        "insufficient_credits",
        "insufficient_balance",
        "quota_exceeded",
    }
)
"""Code/type values meaning "no money or quota left" (fatal: no retry brings it back)."""

AUTH_CODES = frozenset({"invalid_api_key", "authentication_error", "api_key_invalid", "unauthenticated"})
"""Code/type values meaning "the key was rejected", whatever HTTP status a proxy turned them into."""

RATE_LIMIT_CODES = frozenset(
    {"rate_limit_exceeded", "rate_limit_error", "resource_exhausted", "throttling_error", "too_many_requests", "ratelimiterror"}
)
"""Code/type values of a passing rate limit. When a body has one and no quota code, its wording
is not read: Gemini words per-minute limits exactly like OpenAI's "exceeded your current quota"."""

QUOTA_WORDING = re.compile(
    r"insufficient[_ ]quota|exceeded your current quota, please check your plan and billing|billing|"
    r"credit balance|insufficient (?:credits|balance)|out of credits|requires more credits|spend(?:ing)? limit",
    re.IGNORECASE,
)
"""The last resort for servers that send no code: "quota" alone is not enough, as per-minute
rate limits are often worded as quotas too."""


@dataclasses.dataclass(frozen=True)
class ErrorBody:
    """What an error body says: its message, its codes, and the decoded JSON (None if not JSON)."""

    message: str | None
    codes: frozenset[str]
    data: Any = None

    def has_code(self, codes: frozenset[str]) -> bool:
        return not self.codes.isdisjoint(codes)

    def worded_as_quota(self) -> bool:
        return bool(self.message and QUOTA_WORDING.search(self.message))


def parse_error_body(content: bytes | str | None, data: Any = None) -> ErrorBody:
    """Read an error body; ``data`` is the decoded JSON when the caller already has it."""
    if data is None and content:
        try:
            data = json.loads(content)
        except (ValueError, UnicodeDecodeError):
            data = None
    codes: set[str] = set()
    strings: list[str] = []
    _walk(data, codes, strings, 0)
    for text in strings:
        if ":" in text or "=" in text:
            codes.update(m.group(1).lower() for m in _EMBEDDED_CODE.finditer(text))
    message = _message(data, 0)
    if message is None and content and data is None:
        raw = content[:2000].decode("utf-8", "replace") if isinstance(content, bytes) else content[:2000]
        message = raw.strip() or None
    return ErrorBody(message=message, codes=frozenset(codes), data=data)


def _walk(node: Any, codes: set[str], strings: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if key in _CODE_KEYS and value and not value.isdigit():
                    codes.add(value.lower())
                else:
                    strings.append(value)
            else:
                _walk(value, codes, strings, depth + 1)
    elif isinstance(node, list):
        for item in node[:20]:
            _walk(item, codes, strings, depth + 1)
    elif isinstance(node, str):
        strings.append(node)


def _message(node: Any, depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return None
    if isinstance(node, str):
        return node.strip() or None
    if isinstance(node, list):
        found = [m for m in (_message(item, depth + 1) for item in node[:3]) if m]
        return "; ".join(found) or None
    if not isinstance(node, dict):
        return None
    if "msg" in node and "loc" in node:  # one FastAPI/pydantic validation error
        loc = node["loc"] if isinstance(node["loc"], list) else [node["loc"]]
        where = ".".join(str(p) for p in loc)
        return f"{where}: {node['msg']}" if where else str(node["msg"])
    for key in ("error", "detail", "message", "msg", "error_message", "errors"):
        if key in node:
            found = _message(node[key], depth + 1)
            if found:
                raw = node.get("metadata", {}).get("raw") if isinstance(node.get("metadata"), dict) else None
                return f"{found} ({raw})" if isinstance(raw, str) and raw and raw not in found else found
    return None
