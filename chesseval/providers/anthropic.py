"""``anthropic/<model>``: the Anthropic Messages API.

Wire format (per Anthropic's API reference): ``POST {base}/v1/messages`` with headers ``x-api-key``
and ``anthropic-version: 2023-06-01``; body ``model``, ``max_tokens`` (required), ``system``
(system messages, joined), ``messages``, ``temperature``, and for extended thinking either
``thinking: {"type": "enabled", "budget_tokens": N}`` (N >= 1024 and below ``max_tokens``) or, with
``-M thinking=adaptive``, ``thinking: {"type": "adaptive"}`` plus ``output_config: {"effort": ...}``.
The answer is the ``text`` blocks of ``content`` (``thinking`` blocks are not the answer);
``stop_reason`` is ``end_turn|stop_sequence|max_tokens|refusal|model_context_window_exceeded|...``;
``usage`` has ``input_tokens`` (uncached only), ``cache_read_input_tokens``,
``cache_creation_input_tokens`` and ``output_tokens`` (thinking included; it is not reported
separately, so ``reasoning_tokens`` stays None).

Errors: ``{"type": "error", "error": {"type", "message"}}``. 529 ``overloaded_error`` is retried;
``billing_error``, "credit balance is too low" and spend-limit errors are fatal, like 401/403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from chesseval.errors import ConfigError, ModelResponseError
from chesseval.core.players import Message, StopReason, Usage
from chesseval.providers.base import HttpPlayer, Parsed, Request, optional_int, require, resolve_base_url, resolve_key
from chesseval.providers.settings import ReasoningEffort, Settings, parse_int, parse_settings

__all__ = ["AnthropicPlayer", "create", "THINKING_BUDGETS", "ANTHROPIC_VERSION"]

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
MIN_THINKING_BUDGET = 1024

THINKING_BUDGETS: dict[ReasoningEffort, int] = {
    ReasoningEffort.MINIMAL: 1024,
    ReasoningEffort.LOW: 2048,
    ReasoningEffort.MEDIUM: 8192,
    ReasoningEffort.HIGH: 16384,
    ReasoningEffort.XHIGH: 32000,
    ReasoningEffort.MAX: 64000,
}
"""``budget_tokens`` per effort (``-M thinking_budget=N`` overrides)."""

_ADAPTIVE_EFFORT: dict[ReasoningEffort, str] = {
    ReasoningEffort.MINIMAL: "low",
    ReasoningEffort.LOW: "low",
    ReasoningEffort.MEDIUM: "medium",
    ReasoningEffort.HIGH: "high",
    ReasoningEffort.XHIGH: "xhigh",
    ReasoningEffort.MAX: "max",
}
_STOP = {
    "end_turn": StopReason.STOP,
    "stop_sequence": StopReason.STOP,
    "max_tokens": StopReason.MAX_TOKENS,
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
    "refusal": StopReason.REFUSAL,
}


class AnthropicPlayer(HttpPlayer):
    billing_hint = "console.anthropic.com (Plans & Billing, or the workspace spend limit)"

    def __init__(self, *, thinking: dict[str, Any] | None, output_config: dict[str, Any] | None, max_tokens: int, messages_path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.thinking = thinking
        self.output_config = output_config
        self.max_tokens = max_tokens
        self.messages_path = messages_path

    def api_name(self) -> str:
        return "messages"

    def wire_settings(self) -> dict[str, Any]:
        # The Messages API has no seed: a run's seed cannot reach the model.
        return {"max_tokens_sent": self.max_tokens, "thinking": self.thinking, "output_config": self.output_config, "seed_sent": False}

    def build_request(self, messages: list[Message]) -> Request:
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"],
        }
        if system:
            body["system"] = system
        if self.settings.temperature is not None:
            body["temperature"] = self.settings.temperature
        if self.thinking is not None:
            body["thinking"] = self.thinking
        if self.output_config is not None:
            body["output_config"] = self.output_config
        return Request(self.messages_path, body)

    def parse_response(self, data: Any) -> Parsed:
        p = self.provider
        content = require(data, ["content"], p, list)
        texts: list[str] = []
        thinking_chars = 0
        for block in content:
            if not isinstance(block, dict):
                raise ModelResponseError(f"{p}: a block of the response's 'content' is not an object", provider=p)
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif block.get("type") == "thinking" and isinstance(block.get("thinking"), str):
                thinking_chars += len(block["thinking"])
        raw_stop = data.get("stop_reason")
        if not isinstance(raw_stop, str):
            raise ModelResponseError(f"{p}: the response has no 'stop_reason'", provider=p)
        stop = _STOP.get(raw_stop, StopReason.UNKNOWN)
        text = "".join(texts)
        refusal = (text or "refused") if stop == StopReason.REFUSAL else None
        u = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        uncached = optional_int(u.get("input_tokens"))
        read = optional_int(u.get("cache_read_input_tokens"))
        written = optional_int(u.get("cache_creation_input_tokens"))
        usage = Usage(
            # chesseval counts all input tokens, cached or not, as input_tokens.
            input_tokens=None if uncached is None else uncached + (read or 0) + (written or 0),
            output_tokens=optional_int(u.get("output_tokens")),
            reasoning_tokens=None,
            cached_tokens=read,
        )
        extra: dict[str, Any] = {"finish_reason": raw_stop}
        if isinstance(data.get("id"), str):
            extra["id"] = data["id"]
        if isinstance(data.get("model"), str):
            extra["served_model"] = data["model"]
        if thinking_chars:
            extra["thinking_chars"] = thinking_chars
        return Parsed(text=text, stop_reason=stop, usage=usage, refusal=refusal, extra=extra)

    def is_quota_error(self, status: int, data: Any, message: str) -> bool:
        if status == 402:
            return True
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict):
            if err.get("type") == "billing_error":
                return True
            details = err.get("details")
            if isinstance(details, dict) and "spend_limit" in str(details.get("error_code", "")):
                return True
        lowered = message.lower()
        return "credit balance is too low" in lowered or "spend limit" in lowered


def _thinking_config(settings: Settings, model: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None, int]:
    effort = settings.reasoning_effort
    mode = str(settings.extra.get("thinking", "budget")).strip().lower()
    if mode not in ("budget", "adaptive", "off"):
        raise ConfigError(f"anthropic/{model}: option thinking={settings.extra['thinking']!r} is not budget, adaptive or off")
    explicit_budget = settings.extra.get("thinking_budget")
    wants_thinking = mode != "off" and (explicit_budget is not None or (effort is not None and effort is not ReasoningEffort.NONE))
    if not wants_thinking:
        return None, None, settings.max_tokens or DEFAULT_MAX_TOKENS
    if settings.temperature is not None:
        raise ConfigError(
            f"anthropic/{model}: extended thinking does not allow setting temperature "
            f"(got temperature={settings.temperature!r}); drop it or use --reasoning-effort none"
        )
    if mode == "adaptive":
        output = {"effort": _ADAPTIVE_EFFORT[effort]} if effort is not None and effort is not ReasoningEffort.NONE else None
        return {"type": "adaptive"}, output, settings.max_tokens or DEFAULT_MAX_TOKENS * 4
    if explicit_budget is not None:
        budget = parse_int("thinking_budget", explicit_budget, minimum=MIN_THINKING_BUDGET)
    else:
        assert effort is not None
        budget = THINKING_BUDGETS[effort]
    max_tokens = settings.max_tokens if settings.max_tokens is not None else budget + DEFAULT_MAX_TOKENS
    if max_tokens <= budget:
        raise ConfigError(
            f"anthropic/{model}: max_tokens={max_tokens!r} must be larger than the thinking budget {budget} "
            f"(it includes the thinking); raise --max-tokens or lower --reasoning-effort"
        )
    return {"type": "enabled", "budget_tokens": budget}, None, max_tokens


def create(name: str, options: dict[str, Any]) -> AnthropicPlayer:
    """``anthropic/<model>``: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (default ``https://api.anthropic.com``)."""
    settings = parse_settings(options, model=f"anthropic/{name}", provider_options={"thinking", "thinking_budget"})
    thinking, output_config, max_tokens = _thinking_config(settings, name)
    base_url = resolve_base_url("anthropic", settings, ["ANTHROPIC_BASE_URL"], "https://api.anthropic.com")
    key, hint = resolve_key("anthropic", settings, ["ANTHROPIC_API_KEY"])
    # Accept base URLs given with or without the /v1 suffix.
    path = "messages" if urlsplit(base_url).path.rstrip("/").endswith("/v1") else "v1/messages"
    assert key is not None
    return AnthropicPlayer(
        provider="anthropic",
        model=name,
        settings=settings,
        base_url=base_url,
        headers={"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION},
        api_key=key,
        key_hint=hint,
        thinking=thinking,
        output_config=output_config,
        max_tokens=max_tokens,
        messages_path=path,
    )
