"""``google/<model>``: the Gemini API's ``generateContent``.

Wire format (per the Gemini API reference): ``POST {base}/v1beta/models/{model}:generateContent``
with the key in the ``x-goog-api-key`` header (never in the URL, where logs would see it). Body:
``contents`` (roles ``user``/``model``, ``parts: [{"text"}]``), ``systemInstruction``,
``generationConfig`` with ``temperature``, ``maxOutputTokens``, ``seed`` and ``thinkingConfig``:
``thinkingBudget`` (tokens; 0 = off) for Gemini 2.x, ``thinkingLevel`` for later models (choose
with ``-M thinking=budget|level``). The answer is the non-``thought`` text parts of
``candidates[0].content.parts``; ``finishReason`` ``STOP|MAX_TOKENS|SAFETY|RECITATION|...``; a
blocked prompt has no candidates but ``promptFeedback.blockReason``. ``usageMetadata``:
``promptTokenCount``, ``candidatesTokenCount``, ``thoughtsTokenCount`` (billed as output, so
chesseval's ``output_tokens`` includes it), ``cachedContentTokenCount``.

Errors: ``{"error": {"code", "message", "status", "details"}}``. A 429 ``RESOURCE_EXHAUSTED`` is
retried (honouring ``RetryInfo.retryDelay``) unless its quota is per day, which no retry within
a run can outwait: that, 401/403 and an invalid key are fatal.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from chesseval.errors import ConfigError, ModelResponseError
from chesseval.core.players import Message, StopReason, Usage
from chesseval.providers.base import HttpPlayer, Parsed, Request, optional_int, require, resolve_base_url, resolve_key
from chesseval.providers.settings import ReasoningEffort, Settings, parse_int, parse_settings
from chesseval.providers.retry import parse_wait_value

__all__ = ["GooglePlayer", "create", "THINKING_BUDGETS", "THINKING_LEVELS"]

THINKING_BUDGETS: dict[ReasoningEffort, int] = {
    ReasoningEffort.NONE: 0,
    ReasoningEffort.MINIMAL: 512,
    ReasoningEffort.LOW: 2048,
    ReasoningEffort.MEDIUM: 8192,
    ReasoningEffort.HIGH: 16384,
    ReasoningEffort.XHIGH: 24576,
    ReasoningEffort.MAX: 32768,
}
THINKING_LEVELS: dict[ReasoningEffort, str] = {
    # Later Gemini models cannot switch thinking off; "minimal" is their floor.
    ReasoningEffort.NONE: "minimal",
    ReasoningEffort.MINIMAL: "minimal",
    ReasoningEffort.LOW: "low",
    ReasoningEffort.MEDIUM: "medium",
    ReasoningEffort.HIGH: "high",
    ReasoningEffort.XHIGH: "high",
    ReasoningEffort.MAX: "high",
}
_FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE"}


class GooglePlayer(HttpPlayer):
    billing_hint = "Google AI Studio / Google Cloud billing (aistudio.google.com)"

    def __init__(self, *, thinking_config: dict[str, Any] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.thinking_config = thinking_config

    def api_name(self) -> str:
        return "generateContent"

    def wire_settings(self) -> dict[str, Any]:
        return {"thinking_config": self.thinking_config}

    def build_request(self, messages: list[Message]) -> Request:
        s = self.settings
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        body: dict[str, Any] = {
            "contents": [
                {"role": "model" if m["role"] == "assistant" else "user", "parts": [{"text": m["content"]}]}
                for m in messages
                if m["role"] != "system"
            ]
        }
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        config: dict[str, Any] = {}
        if s.temperature is not None:
            config["temperature"] = s.temperature
        if s.max_tokens is not None:
            config["maxOutputTokens"] = s.max_tokens
        if s.seed is not None:
            config["seed"] = s.seed
        if self.thinking_config is not None:
            config["thinkingConfig"] = self.thinking_config
        if config:
            body["generationConfig"] = config
        return Request(f"v1beta/models/{quote(self.model, safe='-._~')}:generateContent", body)

    def parse_response(self, data: Any) -> Parsed:
        p = self.provider
        if not isinstance(data, dict):
            raise ModelResponseError(f"{p}: the response is not a JSON object", provider=p)
        usage = _usage(data.get("usageMetadata"))
        extra: dict[str, Any] = {}
        for field, name in (("responseId", "id"), ("modelVersion", "served_model")):
            if isinstance(data.get(field), str):
                extra[name] = data[field]
        candidates = data.get("candidates")
        if not candidates:
            feedback = data.get("promptFeedback")
            reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
            if isinstance(reason, str):
                extra["finish_reason"] = reason
                return Parsed(text="", stop_reason=StopReason.CONTENT_FILTER, usage=usage, refusal=f"prompt blocked: {reason}", extra=extra)
            raise ModelResponseError(f"{p}: the response has no 'candidates' and no promptFeedback.blockReason", provider=p)
        candidate = require(data, ["candidates", 0], p, dict)
        finish = candidate.get("finishReason")
        content = candidate.get("content")
        if not isinstance(finish, str) and not isinstance(content, dict):
            raise ModelResponseError(f"{p}: candidates[0] has neither 'content' nor 'finishReason'", provider=p)
        texts: list[str] = []
        # A reply whose budget went entirely to thinking has no parts at all; that is data, not an error.
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts or []:
            if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought"):
                texts.append(part["text"])
        if finish == "STOP":
            stop = StopReason.STOP
        elif finish == "MAX_TOKENS":
            stop = StopReason.MAX_TOKENS
        elif finish in _FILTERED:
            stop = StopReason.CONTENT_FILTER
        else:
            stop = StopReason.UNKNOWN
        extra["finish_reason"] = finish
        refusal = f"blocked: {finish}" if stop == StopReason.CONTENT_FILTER else None
        return Parsed(text="".join(texts), stop_reason=stop, usage=usage, refusal=refusal, extra=extra)

    def _error_fields(self, data: Any) -> tuple[str, str, list[Any]]:
        err = data.get("error") if isinstance(data, dict) else None
        if not isinstance(err, dict):
            return "", "", []
        details = err.get("details")
        return str(err.get("status", "")), str(err.get("message", "")), details if isinstance(details, list) else []

    def is_auth_error(self, status: int, data: Any, message: str) -> bool:
        if status in (401, 403):
            return True
        _, _, details = self._error_fields(data)
        return any(isinstance(d, dict) and d.get("reason") == "API_KEY_INVALID" for d in details)

    def is_quota_error(self, status: int, data: Any, message: str) -> bool:
        if status != 429:
            return "billing" in message.lower()
        _, _, details = self._error_fields(data)
        for d in details:
            if not isinstance(d, dict):
                continue
            for violation in d.get("violations") or []:
                if isinstance(violation, dict) and re.search(r"per ?day", str(violation.get("quotaId", "")) + str(violation.get("quotaMetric", "")), re.IGNORECASE):
                    return True
        return False

    def retry_after_from_body(self, data: Any) -> float | None:
        _, _, details = self._error_fields(data)
        for d in details:
            if isinstance(d, dict) and isinstance(d.get("retryDelay"), str):
                return parse_wait_value(d["retryDelay"])
        return None


def _usage(meta: Any) -> Usage:
    if not isinstance(meta, dict):
        return Usage()
    candidates = optional_int(meta.get("candidatesTokenCount"))
    thoughts = optional_int(meta.get("thoughtsTokenCount"))
    output = None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    return Usage(
        input_tokens=optional_int(meta.get("promptTokenCount")),
        output_tokens=output,
        reasoning_tokens=thoughts,
        cached_tokens=optional_int(meta.get("cachedContentTokenCount")),
    )


def _thinking_config(settings: Settings, model: str) -> dict[str, Any] | None:
    mode = settings.extra.get("thinking")
    if mode is None:
        mode = "budget" if re.match(r"gemini-[12]\b|gemini-[12]\.", model) else "level"
    mode = str(mode).strip().lower()
    if mode not in ("budget", "level", "off"):
        raise ConfigError(f"google/{model}: option thinking={settings.extra['thinking']!r} is not budget, level or off")
    if mode == "off":
        return None
    explicit = settings.extra.get("thinking_budget")
    if explicit is not None:
        return {"thinkingBudget": parse_int("thinking_budget", explicit, minimum=-1)}
    effort = settings.reasoning_effort
    if effort is None:
        return None  # the model's own default
    if mode == "budget":
        return {"thinkingBudget": THINKING_BUDGETS[effort]}
    return {"thinkingLevel": THINKING_LEVELS[effort]}


def create(name: str, options: dict[str, Any]) -> GooglePlayer:
    """``google/<model>``: GEMINI_API_KEY or GOOGLE_API_KEY; GOOGLE_BASE_URL (default the Gemini API)."""
    model = name.removeprefix("models/")
    settings = parse_settings(options, model=f"google/{model}", provider_options={"thinking", "thinking_budget"})
    thinking = _thinking_config(settings, model)
    base_url = resolve_base_url("google", settings, ["GOOGLE_BASE_URL", "GEMINI_BASE_URL"], "https://generativelanguage.googleapis.com")
    key, hint = resolve_key("google", settings, ["GEMINI_API_KEY", "GOOGLE_API_KEY"])
    assert key is not None
    return GooglePlayer(
        provider="google",
        model=model,
        settings=settings,
        base_url=base_url,
        headers={"x-goog-api-key": key},
        api_key=key,
        key_hint=hint,
        thinking_config=thinking,
    )
