"""OpenAI and OpenAI-compatible servers: ``openai/``, ``openai-api/<name>/``, ``ollama/``, ``vllm/``,
``llamacpp/``, ``openrouter/``.

Wire formats (per the OpenAI API reference):

- Chat Completions, ``POST {base}/chat/completions``: ``messages``; ``max_completion_tokens`` for
  OpenAI itself (``max_tokens`` for compatible servers, which mostly predate the rename);
  ``reasoning_effort``; ``seed``. Answer in ``choices[0].message.content`` (or ``.refusal``),
  ``finish_reason`` ``stop|length|content_filter``; ``usage.prompt_tokens``,
  ``completion_tokens``, ``completion_tokens_details.reasoning_tokens``,
  ``prompt_tokens_details.cached_tokens`` (and OpenRouter's ``usage.cost``).
- Responses, ``POST {base}/responses`` (``-M api=responses``; chosen by default for OpenAI
  models that only it serves, such as ``o3-pro`` and ``gpt-5-pro``): ``input``, ``max_output_tokens``,
  ``reasoning.effort``, ``store: false``. Answer in ``output[*]`` items of type ``message`` with
  ``output_text``/``refusal`` parts; ``status: incomplete`` with ``incomplete_details.reason``
  ``max_output_tokens|content_filter``; ``usage.input_tokens``, ``output_tokens``,
  ``input_tokens_details.cached_tokens``, ``output_tokens_details.reasoning_tokens``.

Errors: ``{"error": {"message", "type", "code"}}``; ``insufficient_quota`` (sent with HTTP 429) and
billing codes are fatal, like 401/403; OpenRouter signals missing credit with HTTP 402.
"""

from __future__ import annotations

import re
from typing import Any

from chesseval.providers.credentials import env_name, is_loopback_url
from chesseval.errors import ConfigError, ModelResponseError
from chesseval.core.players import Message, StopReason, Usage
from chesseval.providers.base import HttpPlayer, Parsed, Request, optional_int, require, resolve_base_url, resolve_key
from chesseval.providers.settings import ReasoningEffort, Settings, parse_settings

__all__ = [
    "OpenAIChatPlayer",
    "OpenAIResponsesPlayer",
    "create",
    "create_compatible",
    "create_ollama",
    "create_vllm",
    "create_llamacpp",
    "create_openrouter",
    "openai_effort",
    "PRESETS",
]

_QUOTA_CODES = frozenset(
    {
        "insufficient_quota",
        "billing_hard_limit_reached",
        "billing_not_active",
        "credit_balance_exhausted",
        "insufficient_credits",
        "quota_exceeded",
    }
)
# Message fallbacks for compatible servers that do not send a code. "quota" alone is not enough:
# per-minute rate limits are often worded as quotas too.
_QUOTA_TEXT = re.compile(
    r"insufficient[_ ]quota|exceeded your current quota, please check your plan and billing|billing|"
    r"credit balance|insufficient credits|out of credits|requires more credits",
    re.IGNORECASE,
)
_FINISH = {
    "stop": StopReason.STOP,
    "length": StopReason.MAX_TOKENS,
    "content_filter": StopReason.CONTENT_FILTER,
    "tool_calls": StopReason.STOP,
    "function_call": StopReason.STOP,
}


def openai_effort(effort: ReasoningEffort | None) -> str | None:
    """OpenAI's ``reasoning_effort`` scale is ours minus ``max``, which becomes its top, ``xhigh``."""
    if effort is None:
        return None
    return "xhigh" if effort is ReasoningEffort.MAX else effort.value


class _OpenAIBase(HttpPlayer):
    billing_hint = "the provider's billing page (for OpenAI: platform.openai.com/settings/organization/billing)"

    def __init__(self, *, use_max_completion_tokens: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.use_max_completion_tokens = use_max_completion_tokens

    def is_quota_error(self, status: int, data: Any, message: str) -> bool:
        if status == 402:
            return True
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict):
            for field in ("code", "type"):
                if isinstance(err.get(field), str) and err[field].lower() in _QUOTA_CODES:
                    return True
        return status in (400, 403, 429) and bool(_QUOTA_TEXT.search(message))


class OpenAIChatPlayer(_OpenAIBase):
    """Chat Completions."""

    def api_name(self) -> str:
        return "chat.completions"

    def wire_settings(self) -> dict[str, Any]:
        return {"reasoning_effort_sent": openai_effort(self.settings.reasoning_effort)}

    def build_request(self, messages: list[Message]) -> Request:
        s = self.settings
        body: dict[str, Any] = {"model": self.model, "messages": [dict(m) for m in messages]}
        if s.temperature is not None:
            body["temperature"] = s.temperature
        if s.max_tokens is not None:
            body["max_completion_tokens" if self.use_max_completion_tokens else "max_tokens"] = s.max_tokens
        if s.seed is not None:
            body["seed"] = s.seed
        effort = openai_effort(s.reasoning_effort)
        if effort is not None:
            body["reasoning_effort"] = effort
        return Request("chat/completions", body)

    def parse_response(self, data: Any) -> Parsed:
        p = self.provider
        choices = require(data, ["choices"], p, list)
        if not choices:
            raise ModelResponseError(f"{p}: the response has an empty 'choices' list", provider=p)
        choice = require(choices, [0], p, dict)
        message = require(choice, ["message"], p, dict)
        if "content" not in message and "refusal" not in message:
            raise ModelResponseError(f"{p}: the response's choices[0].message has no 'content'", provider=p)
        text = _content_text(message.get("content"), p)
        refusal = message.get("refusal") if isinstance(message.get("refusal"), str) else None
        finish = choice.get("finish_reason")
        stop = _FINISH.get(finish, StopReason.UNKNOWN) if isinstance(finish, str) else StopReason.UNKNOWN
        if refusal:
            stop = StopReason.REFUSAL
        usage_data = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        completion_details = usage_data.get("completion_tokens_details") or {}
        prompt_details = usage_data.get("prompt_tokens_details") or {}
        usage = Usage(
            input_tokens=optional_int(usage_data.get("prompt_tokens")),
            output_tokens=optional_int(usage_data.get("completion_tokens")),
            reasoning_tokens=optional_int(completion_details.get("reasoning_tokens")) if isinstance(completion_details, dict) else None,
            cached_tokens=optional_int(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict) else None,
        )
        extra: dict[str, Any] = {"finish_reason": finish}
        for field in ("id", "model", "system_fingerprint"):
            if isinstance(data.get(field), str):
                extra["served_model" if field == "model" else field] = data[field]
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            extra["reasoning_chars"] = len(reasoning)
        cost = usage_data.get("cost")
        reported_cost = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None
        return Parsed(text=text, stop_reason=stop, usage=usage, refusal=refusal, extra=extra, cost_usd=reported_cost)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _content_text(content: Any, provider: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some compatible servers send content parts
        return "".join(part.get("text", "") for part in content if isinstance(part, dict) and isinstance(part.get("text"), str))
    raise ModelResponseError(f"{provider}: the response's message content is {type(content).__name__}, not text", provider=provider)


class OpenAIResponsesPlayer(_OpenAIBase):
    """The Responses API (``-M api=responses``), which some reasoning models need."""

    def api_name(self) -> str:
        return "responses"

    def wire_settings(self) -> dict[str, Any]:
        # The Responses API takes no seed.
        return {"reasoning_effort_sent": openai_effort(self.settings.reasoning_effort), "seed_sent": False}

    def build_request(self, messages: list[Message]) -> Request:
        s = self.settings
        body: dict[str, Any] = {
            "model": self.model,
            "input": [{"role": m["role"], "content": m["content"]} for m in messages],
            "store": False,  # nothing to fetch later; do not leave conversations on the server
        }
        if s.temperature is not None:
            body["temperature"] = s.temperature
        if s.max_tokens is not None:
            body["max_output_tokens"] = s.max_tokens
        effort = openai_effort(s.reasoning_effort)
        if effort is not None:
            body["reasoning"] = {"effort": effort}
        return Request("responses", body)

    def parse_response(self, data: Any) -> Parsed:
        p = self.provider
        output = require(data, ["output"], p, list)
        status = data.get("status")
        texts: list[str] = []
        refusals: list[str] = []
        reasoning_items = 0
        for item in output:
            if not isinstance(item, dict):
                raise ModelResponseError(f"{p}: an item of the response's 'output' is not an object", provider=p)
            if item.get("type") == "reasoning":
                reasoning_items += 1
            if item.get("type") != "message":
                continue
            for part in item.get("content") or []:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                    refusals.append(part["refusal"])
        if status == "failed":
            err = data.get("error") if isinstance(data.get("error"), dict) else {}
            raise ModelResponseError(f"{p}: the response failed: {self.session.redact(str(err.get('message', err)))}", provider=p)
        reason = (data.get("incomplete_details") or {}).get("reason") if isinstance(data.get("incomplete_details"), dict) else None
        if refusals:
            stop = StopReason.REFUSAL
        elif status == "incomplete" and reason == "max_output_tokens":
            stop = StopReason.MAX_TOKENS
        elif status == "incomplete" and reason == "content_filter":
            stop = StopReason.CONTENT_FILTER
        elif status == "completed":
            stop = StopReason.STOP
        else:
            stop = StopReason.UNKNOWN
        u = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        in_details = _dict(u.get("input_tokens_details"))
        out_details = _dict(u.get("output_tokens_details"))
        usage = Usage(
            input_tokens=optional_int(u.get("input_tokens")),
            output_tokens=optional_int(u.get("output_tokens")),
            reasoning_tokens=optional_int(out_details.get("reasoning_tokens")),
            cached_tokens=optional_int(in_details.get("cached_tokens")),
        )
        extra: dict[str, Any] = {"status": status, "incomplete_reason": reason}
        if isinstance(data.get("id"), str):
            extra["id"] = data["id"]
        if isinstance(data.get("model"), str):
            extra["served_model"] = data["model"]
        return Parsed(text="".join(texts), stop_reason=stop, usage=usage, refusal="\n".join(refusals) or None, extra=extra)


# OpenAI models served only by the Responses API (chat/completions answers them with a 404).
_RESPONSES_ONLY = re.compile(r"^(o1-pro|o3-pro|o3-deep-research|o4-mini-deep-research|gpt-5(\.\d+)?-pro|codex-mini|gpt-5(\.\d+)?-codex)")


def _choose_api(provider: str, model: str, settings: Settings) -> str:
    api = str(settings.extra.get("api", "auto")).strip().lower()
    if api not in ("auto", "chat", "responses"):
        raise ConfigError(f"{provider}/{model}: option api={settings.extra['api']!r} is not 'chat', 'responses' or 'auto'")
    if api == "auto":
        return "responses" if provider == "openai" and _RESPONSES_ONLY.match(model) else "chat"
    return api


def _build(
    *,
    provider: str,
    model: str,
    settings: Settings,
    base_url: str,
    key: str | None,
    key_hint: str,
    use_max_completion_tokens: bool,
) -> OpenAIChatPlayer | OpenAIResponsesPlayer:
    api = _choose_api(provider, model, settings)
    headers = {"authorization": f"Bearer {key}"} if key else {}
    cls = OpenAIResponsesPlayer if api == "responses" else OpenAIChatPlayer
    return cls(
        provider=provider,
        model=model,
        settings=settings,
        base_url=base_url,
        headers=headers,
        api_key=key,
        key_hint=key_hint,
        use_max_completion_tokens=use_max_completion_tokens,
    )


def create(name: str, options: dict[str, Any]) -> OpenAIChatPlayer | OpenAIResponsesPlayer:
    """``openai/<model>``: OPENAI_API_KEY, OPENAI_BASE_URL (default ``https://api.openai.com/v1``)."""
    settings = parse_settings(options, model=f"openai/{name}", provider_options={"api"})
    base_url = resolve_base_url("openai", settings, ["OPENAI_BASE_URL"], "https://api.openai.com/v1")
    key, hint = resolve_key("openai", settings, ["OPENAI_API_KEY"])
    return _build(provider="openai", model=name, settings=settings, base_url=base_url, key=key, key_hint=hint, use_max_completion_tokens=True)


def create_compatible(name: str, options: dict[str, Any]) -> OpenAIChatPlayer | OpenAIResponsesPlayer:
    """``openai-api/<name>/<model>``: ``<NAME>_API_KEY`` and ``<NAME>_BASE_URL`` (or ``--base-url``).

    The key may be missing only for a server on this machine.
    """
    server, sep, model = name.partition("/")
    if not sep or not server or not model:
        raise ConfigError(f"model 'openai-api/{name}' must be of the form 'openai-api/<name>/<model>'")
    provider = f"openai-api/{server}"
    settings = parse_settings(options, model=f"{provider}/{model}", provider_options={"api"}, defaults={"max_connections": 8})
    base_url = resolve_base_url(provider, settings, [env_name(server, "BASE_URL")], None)
    key, hint = resolve_key(provider, settings, [env_name(server, "API_KEY")], required=not is_loopback_url(base_url))
    return _build(provider=provider, model=model, settings=settings, base_url=base_url, key=key, key_hint=hint, use_max_completion_tokens=False)


PRESETS: dict[str, dict[str, Any]] = {
    # name: default base URL, variables, whether a key is required, option defaults
    "ollama": {"url": "http://localhost:11434/v1", "key_required": False, "defaults": {"max_connections": 4, "attempt_timeout": 600}},
    "vllm": {"url": "http://localhost:8000/v1", "key_required": False, "defaults": {"max_connections": 16, "attempt_timeout": 600}},
    "llamacpp": {"url": "http://localhost:8080/v1", "key_required": False, "defaults": {"max_connections": 4, "attempt_timeout": 600}},
    "openrouter": {"url": "https://openrouter.ai/api/v1", "key_required": True, "defaults": {}},
}


def _create_preset(preset: str, name: str, options: dict[str, Any]) -> OpenAIChatPlayer | OpenAIResponsesPlayer:
    spec = PRESETS[preset]
    settings = parse_settings(options, model=f"{preset}/{name}", provider_options={"api"}, defaults=spec["defaults"])
    base_url = resolve_base_url(preset, settings, [env_name(preset, "BASE_URL")], spec["url"])
    required = spec["key_required"] and not is_loopback_url(base_url)
    key, hint = resolve_key(preset, settings, [env_name(preset, "API_KEY")], required=required)
    return _build(provider=preset, model=name, settings=settings, base_url=base_url, key=key, key_hint=hint, use_max_completion_tokens=False)


def create_ollama(name: str, options: dict[str, Any]) -> OpenAIChatPlayer | OpenAIResponsesPlayer:
    """``ollama/<model>``: OLLAMA_BASE_URL (default ``http://localhost:11434/v1``)."""
    return _create_preset("ollama", name, options)


def create_vllm(name: str, options: dict[str, Any]) -> OpenAIChatPlayer | OpenAIResponsesPlayer:
    """``vllm/<model>``: VLLM_BASE_URL (default ``http://localhost:8000/v1``), VLLM_API_KEY if set."""
    return _create_preset("vllm", name, options)


def create_llamacpp(name: str, options: dict[str, Any]) -> OpenAIChatPlayer | OpenAIResponsesPlayer:
    """``llamacpp/<model>``: LLAMACPP_BASE_URL (default ``http://localhost:8080/v1``, llama-server's port)."""
    return _create_preset("llamacpp", name, options)


def create_openrouter(name: str, options: dict[str, Any]) -> OpenAIChatPlayer | OpenAIResponsesPlayer:
    """``openrouter/<org>/<model>``: OPENROUTER_API_KEY, OPENROUTER_BASE_URL."""
    return _create_preset("openrouter", name, options)
