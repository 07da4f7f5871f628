"""What every HTTP provider shares: cache, concurrency, retries, error classification, accounting.

A provider subclasses :class:`HttpPlayer` and supplies the wire format: :meth:`build_request`
(messages -> path and JSON body), :meth:`parse_response` (JSON -> :class:`Parsed`) and the error
hooks (:meth:`error_message`, :meth:`is_quota_error`, :meth:`is_auth_error`). Everything else is
here, once:

- a response-cache hit returns the stored reply with ``cached=True`` and makes no call;
- at most ``max_connections`` attempts are in flight (waiting in backoff does not hold a slot);
- each attempt goes through :mod:`chesseval.providers.http` and the retry policy of :mod:`chesseval.providers.retry`;
- a 401/403 or a quota/billing error is a :class:`ModelFatalError` naming the provider and the fix;
  other 408/429/5xx are retried; other 4xx are fatal (every later call would fail the same way);
- usage and cost (from :mod:`chesseval.providers.prices`) go into the :class:`Reply`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from chesseval.providers.cache import ResponseCache, cache_key, default_cache_dir
from chesseval.providers.credentials import lookup_env, redact_url
from chesseval.errors import ConfigError, ModelError, ModelFatalError, ModelResponseError, ModelTransportError
from chesseval.providers.http import HttpResponse, HttpSession
from chesseval.core.players import Message, Reply, StopReason, Turn, Usage
from chesseval.providers.prices import PriceTable, load_prices
from chesseval.providers.settings import Settings
from chesseval.providers.retry import CallStats, RetryPolicy, call_with_retry, is_retryable_status, parse_retry_after

__all__ = ["HttpPlayer", "Parsed", "PlayerStats", "Request", "optional_int", "require", "resolve_key", "resolve_base_url"]

LOGGER = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Request:
    """One HTTP request a provider wants sent."""

    path: str
    body: dict[str, Any]
    params: Mapping[str, str] | None = None


@dataclasses.dataclass(frozen=True)
class Parsed:
    """What a provider read from a successful response."""

    text: str
    stop_reason: str
    usage: Usage
    refusal: str | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    cost_usd: float | None = None
    """A cost the server reported itself (OpenRouter does), used when the price table has none."""


@dataclasses.dataclass
class PlayerStats:
    """Live counters for the progress display (mutable; read them, do not write them)."""

    calls: int = 0
    cache_hits: int = 0
    attempts: int = 0
    retries: int = 0
    retry_wait_s: float = 0.0
    in_flight: int = 0
    failures: int = 0

    def snapshot(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def require(data: Any, path: Sequence[str | int], provider: str, kind: type | tuple[type, ...] = object) -> Any:
    """``data[path[0]][path[1]]...`` of type ``kind``, or a :class:`ModelResponseError` naming the field."""
    current = data
    walked = ""
    for step in path:
        walked += f"[{step!r}]"
        try:
            current = current[step]
        except (KeyError, IndexError, TypeError):
            raise ModelResponseError(f"{provider}: the response has no {walked}", provider=provider) from None
    if not isinstance(current, kind):
        raise ModelResponseError(
            f"{provider}: the response's {walked} is {type(current).__name__}, not {getattr(kind, '__name__', kind)}",
            provider=provider,
        )
    return current


def resolve_key(provider: str, settings: Settings, names: Sequence[str], *, required: bool = True) -> tuple[str | None, str]:
    """The API key (``-M api_key``, then the first set variable of ``names``, environment before
    ``.env``) and where it came from; a missing required key is a one-line :class:`ConfigError`."""
    if settings.api_key:
        return settings.api_key, "the api_key option"
    found = lookup_env(names)
    if found is not None:
        return found[1], found[0]
    if required:
        wanted = " or ".join(names)
        raise ConfigError(f"{provider}: no API key; set {wanted} in the environment or in a .env file")
    return None, " or ".join(names) + " (not set)"


def resolve_base_url(provider: str, settings: Settings, names: Sequence[str], default: str | None) -> str:
    """``base_url`` option, else the first set variable of ``names``, else ``default``."""
    if settings.base_url:
        url = settings.base_url
    else:
        found = lookup_env(names)
        url = found[1] if found is not None else default  # type: ignore[assignment]
    if not url:
        raise ConfigError(f"{provider}: no base URL; set {' or '.join(names)} or pass --base-url")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{provider}: base URL {redact_url(url)!r} must start with http:// or https://")
    return url


def optional_int(value: Any) -> int | None:
    """A token count from a response: an int, or None when absent or not a count."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


class HttpPlayer:
    """Base class of the HTTP providers; see the module docstring."""

    provider: str = ""
    """As in ``provider/model`` (``openai-api/<name>`` for a named OpenAI-compatible server)."""
    key_hint: str = ""
    """Where the key comes from, for error messages (a variable name, never a value)."""
    billing_hint: str = "the provider's billing settings"

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        settings: Settings,
        base_url: str,
        headers: Mapping[str, str],
        api_key: str | None,
        key_hint: str,
        retry_policy: RetryPolicy | None = None,
        cache: ResponseCache | None = None,
        prices: PriceTable | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.settings = settings
        self.key_hint = key_hint
        self.session = HttpSession(
            provider=provider,
            base_url=base_url,
            headers=headers,
            max_connections=settings.max_connections,
            attempt_timeout=settings.attempt_timeout,
            secrets=[api_key],
            transport=transport,
        )
        self.retry_policy = retry_policy or RetryPolicy(
            max_retries=settings.max_retries,
            timeout=settings.timeout,
            wait_scale=RetryPolicy.scale_from_env(),
        )
        if cache is None and settings.cache:
            cache = ResponseCache(settings.cache_dir or default_cache_dir())
        self.cache = cache if settings.cache else None
        self.prices = prices if prices is not None else load_prices([settings.prices] if settings.prices else [])
        self.stats = PlayerStats()
        self._ever_answered = False
        self._fatal: ModelFatalError | None = None
        self._stopped = asyncio.Event()

    # -- the Player protocol ------------------------------------------------------------------

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"

    def describe(self) -> dict[str, Any]:
        """Safe settings for ``run.json``: no key, a redacted base URL."""
        s = self.settings
        price = self.prices.lookup(self.provider, self.model)
        return {
            "provider": self.provider,
            "model": self.model,
            "base_url": self.session.base_url,
            "api": self.api_name(),
            "generation": {**s.generation(), **self.wire_settings()},
            "max_connections": s.max_connections,
            "max_retries": s.max_retries,
            "timeout": s.timeout,
            "attempt_timeout": s.attempt_timeout,
            "cache": self.cache is not None,
            "key_from": self.key_hint,
            "price_per_mtok": None if price is None else dataclasses.asdict(price),
        }

    async def play(self, turn: Turn) -> Reply:
        messages = [Message(role=m["role"], content=m["content"]) for m in turn.messages]
        request = self.build_request(messages)
        key = self._cache_key(request, turn) if self.cache is not None else ""
        self.stats.calls += 1
        if self.cache is not None:
            hit = self.cache.get(self.provider, key)
            if hit is not None:
                self.stats.cache_hits += 1
                return self._reply_from_cache(hit["reply"])
        started = time.perf_counter()
        call = CallStats()
        policy = dataclasses.replace(self.retry_policy, sleep=self._sleep)
        try:
            response = await call_with_retry(lambda: self._attempt(request), policy, stats=call, on_retry=self._on_retry)
            parsed = self.parse_response(response.json(self.provider))
        except ModelError as exc:
            self.stats.failures += 1
            final = self._final_error(exc, call)
            final.retries = call.retries
            if isinstance(final, ModelFatalError) and self._fatal is None:
                # Every other call of this player stops too, also those asleep in backoff.
                self._fatal = final
                self._stopped.set()
            if final is exc:
                raise
            raise final from exc
        finally:
            self.stats.attempts += call.attempts
        self._ever_answered = True
        cost = self.prices.cost(self.provider, self.model, parsed.usage)
        if cost is None:
            cost = parsed.cost_usd
        reply = Reply(
            text=parsed.text,
            stop_reason=parsed.stop_reason,
            usage=parsed.usage,
            latency_s=time.perf_counter() - started,
            retries=call.retries,
            cost_usd=cost,
            cached=False,
            refusal=parsed.refusal,
            extra={**parsed.extra, "attempts": call.attempts, "retry_wait_s": round(call.waited_s, 3)},
        )
        if self.cache is not None:
            self.cache.put(self.provider, key, {"provider": self.provider, "model": self.model, "reply": _reply_to_json(reply)})
        return reply

    async def aclose(self) -> None:
        await self.session.aclose()

    # -- provider hooks -----------------------------------------------------------------------

    def api_name(self) -> str:
        """Which API is spoken (``chat.completions``, ``messages``, ...), for the record."""
        raise NotImplementedError

    def wire_settings(self) -> dict[str, Any]:
        """Provider-specific generation settings as sent (e.g. the thinking budget), for the record."""
        return {}

    def build_request(self, messages: list[Message]) -> Request:
        raise NotImplementedError

    def parse_response(self, data: Any) -> Parsed:
        raise NotImplementedError

    def error_message(self, data: Any) -> str | None:
        """The human message in an error body."""
        if isinstance(data, dict):
            err = data.get("error")
            if isinstance(err, dict) and isinstance(err.get("message"), str):
                return err["message"]
            if isinstance(err, str):
                return err
            if isinstance(data.get("message"), str):
                return data["message"]
        return None

    def is_quota_error(self, status: int, data: Any, message: str) -> bool:
        """Is this an out-of-quota/credit/billing error (fatal, never retried)?"""
        return False

    def is_auth_error(self, status: int, data: Any, message: str) -> bool:
        return status in (401, 403)

    def retry_after_from_body(self, data: Any) -> float | None:
        """A wait the body asks for (Gemini's RetryInfo), when the headers do not say."""
        return None

    # -- internals ----------------------------------------------------------------------------

    def _cache_key(self, request: Request, turn: Turn) -> str:
        return cache_key(
            {
                "v": 1,
                "provider": self.provider,
                "model": self.model,
                "base_url": self.session.base_url,
                "path": request.path,
                "params": dict(request.params or {}),
                "body": request.body,
                "seed": turn.seed,
            }
        )

    def _raise_if_stopped(self) -> None:
        if self._fatal is not None:
            raise ModelFatalError(f"{self._fatal} (stopped: an earlier call failed fatally)", provider=self.provider, status_code=self._fatal.status_code)

    async def _sleep(self, seconds: float) -> None:
        """The policy's sleep, cut short when another call fails fatally."""
        self._raise_if_stopped()
        sleeper = asyncio.ensure_future(self.retry_policy.sleep(seconds))
        stopper = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
        self._raise_if_stopped()

    async def _attempt(self, request: Request) -> HttpResponse:
        self._raise_if_stopped()
        # The session bounds the requests in flight to max_connections (waiting in backoff holds no slot).
        self.stats.in_flight += 1
        try:
            response = await self.session.post_json(request.path, request.body, params=request.params)
        finally:
            self.stats.in_flight -= 1
        if response.status_code != 200:
            raise self.error_for(response)
        return response

    def error_for(self, response: HttpResponse) -> ModelError:
        """Classify a non-200 answer: quota/auth fatal, 408/429/5xx retryable, other 4xx fatal."""
        status = response.status_code
        try:
            data: Any = response.json(self.provider)
        except ModelResponseError:
            data = None
        raw = self.error_message(data)
        if raw is None:
            raw = response.content[:200].decode("utf-8", "replace").strip() or "no error message"
        message = self.session.redact(" ".join(raw.split())[:300])
        where = f"{self.provider} (HTTP {status}: {message})"
        if self.is_quota_error(status, data, message):
            return ModelFatalError(
                f"{where}: quota, credit or billing limit reached; retrying will not help. "
                f"Fix: add credit or raise the limit in {self.billing_hint}, or use another key",
                provider=self.provider,
                status_code=status,
            )
        if self.is_auth_error(status, data, message):
            return ModelFatalError(
                f"{where}: the API key was rejected. Fix: check {self.key_hint} (environment or .env) "
                f"and that the key may use model {self.model!r}",
                provider=self.provider,
                status_code=status,
            )
        if is_retryable_status(status):
            wait = parse_retry_after(response.headers)
            if wait is None:
                wait = self.retry_after_from_body(data)
            return ModelTransportError(where, provider=self.provider, status_code=status, retry_after=wait)
        return ModelFatalError(
            f"{where}: the request was refused; every call would fail the same way. "
            f"Fix: check the model name {self.model!r}, the base URL and the options",
            provider=self.provider,
            status_code=status,
        )

    def _on_retry(self, exc: BaseException, wait: float) -> None:
        self.stats.retries += 1
        self.stats.retry_wait_s += wait
        LOGGER.info("%s: retrying in %.2fs after: %s", self.name, wait, exc)

    def _final_error(self, exc: ModelError, call: CallStats) -> ModelError:
        cause = exc.__cause__
        while isinstance(cause, ModelTransportError) and cause.__cause__ is not None:
            cause = cause.__cause__
        if isinstance(exc, ModelTransportError) and not self._ever_answered and isinstance(cause, httpx.ConnectError):
            # Nothing ever answered: every puzzle would burn its retries the same way.
            return ModelFatalError(
                f"{self.provider}: cannot connect to {self.session.base_url} after {call.attempts} attempt(s). "
                "Fix: start the server or check the base URL",
                provider=self.provider,
            )
        return exc

    def _reply_from_cache(self, data: Mapping[str, Any]) -> Reply:
        usage = data.get("usage") or {}
        return Reply(
            text=str(data.get("text", "")),
            stop_reason=str(data.get("stop_reason", StopReason.UNKNOWN)),
            usage=Usage(**{k: usage.get(k) for k in ("input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens")}),
            latency_s=float(data.get("latency_s", 0.0)),
            retries=0,
            cost_usd=data.get("cost_usd"),
            cached=True,
            refusal=data.get("refusal"),
            extra=dict(data.get("extra") or {}),
        )


def _reply_to_json(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "stop_reason": reply.stop_reason,
        "usage": reply.usage.to_dict(),
        "latency_s": reply.latency_s,
        "cost_usd": reply.cost_usd,
        "refusal": reply.refusal,
        "extra": reply.extra,
    }
