"""The retry policy: one place, built on tenacity, shared by every provider.

What is retried is decided by the exception type alone: :class:`ModelTransportError` (timeouts,
dropped connections, 408/429/5xx, as classified by the provider from the status and body) is
retried; :class:`ModelFatalError` (bad key, no quota, other 4xx) and :class:`ModelResponseError`
(malformed answers) are not. How long to wait: the server's ``Retry-After`` (delta-seconds or
HTTP-date) or its rate-limit reset headers when it sent them, else exponential backoff with
jitter. Bounded by ``max_retries`` and a total ``timeout``; a wait that would end past the total
timeout is not started.

Tests never sleep: ``sleep`` is injectable, and ``CHESSEVAL_RETRY_WAIT_SCALE`` (a factor on every
wait, e.g. ``0.001``) lets an end-to-end run go through real waits quickly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from chesseval.errors import ConfigError, ModelTransportError

__all__ = [
    "RetryPolicy",
    "CallStats",
    "call_with_retry",
    "parse_retry_after",
    "parse_wait_value",
    "is_retryable_status",
    "WAIT_SCALE_ENV",
]

WAIT_SCALE_ENV = "CHESSEVAL_RETRY_WAIT_SCALE"

T = TypeVar("T")

# Reset-window headers some providers send instead of (or beside) Retry-After.
_RESET_HEADERS = (
    "retry-after-ms",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-tokens-reset",
    "anthropic-ratelimit-input-tokens-reset",
    "anthropic-ratelimit-output-tokens-reset",
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def is_retryable_status(status: int) -> bool:
    """408, 429 and every 5xx (Google Cloud's retry guidance, as inspect_ai follows)."""
    return status in (408, 429) or 500 <= status <= 599


def _seconds_until(moment: datetime, now: float | None) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    current = datetime.now(timezone.utc).timestamp() if now is None else now
    return max(0.0, moment.timestamp() - current)


def parse_wait_value(value: str, *, now: float | None = None) -> float | None:
    """Seconds to wait from one header value: ``"7"``, ``"1m30s"``, ``"250ms"``, an HTTP-date or ISO time.

    ``now`` (Unix seconds) is injectable for tests; unparseable values are None.
    """
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None
    compact = value.replace(" ", "")
    parts = _DURATION.findall(compact)
    if parts and "".join(a + u for a, u in parts) == compact:
        return sum(float(a) * _UNITS[u] for a, u in parts)
    try:
        return _seconds_until(parsedate_to_datetime(value), now)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return _seconds_until(datetime.fromisoformat(value.replace("Z", "+00:00")), now)
    except ValueError:
        return None


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait (seconds) a response asks for: ``Retry-After`` first, else the largest reset header.

    Header names must be lowercase (as :class:`chesseval.providers.http.HttpResponse` gives them).
    """
    value = headers.get("retry-after")
    if value is not None:
        seconds = parse_wait_value(value, now=now)
        if seconds is not None:
            return seconds
    found: list[float] = []
    for name in _RESET_HEADERS:
        raw = headers.get(name)
        if raw is None:
            continue
        if name == "retry-after-ms":
            try:
                found.append(max(0.0, float(raw) / 1000.0))
            except ValueError:
                pass
            continue
        seconds = parse_wait_value(raw, now=now)
        if seconds is not None:
            found.append(seconds)
    return max(found) if found else None


async def _no_sleep(seconds: float) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one call. Every bound has a default: nothing retries forever."""

    max_retries: int = 6
    """Retries after the first attempt (so at most ``max_retries + 1`` attempts)."""
    timeout: float | None = 900.0
    """Total seconds for one call, attempts and waits together."""
    initial_wait: float = 2.0
    max_wait: float = 60.0
    """Cap on the exponential backoff (a server's Retry-After may ask for longer, and is honoured)."""
    jitter: float = 2.0
    """Up to this many seconds of random extra wait, so that clients do not retry in lockstep."""
    wait_scale: float = 1.0
    """A factor on every wait (``CHESSEVAL_RETRY_WAIT_SCALE``); tests use a tiny one."""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    """Injectable so tests never sleep."""

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0, got {self.max_retries!r}")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"timeout must be > 0 seconds, got {self.timeout!r}")
        if self.wait_scale < 0:
            raise ConfigError(f"{WAIT_SCALE_ENV} must be >= 0, got {self.wait_scale!r}")

    @classmethod
    def no_wait(cls, **kwargs: object) -> RetryPolicy:
        """A policy whose waits are computed but never slept (for tests)."""
        return cls(sleep=_no_sleep, **kwargs)  # type: ignore[arg-type]

    @staticmethod
    def scale_from_env(environ: Mapping[str, str] | None = None) -> float:
        raw = (os.environ if environ is None else environ).get(WAIT_SCALE_ENV)
        if raw is None or raw == "":
            return 1.0
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{WAIT_SCALE_ENV}={raw!r} is not a number") from None

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Unscaled exponential wait before retry ``retry_number`` (1-based), with jitter."""
        base = min(self.max_wait, self.initial_wait * 2 ** (retry_number - 1))
        return base + (rng or random).uniform(0, self.jitter)

    def wait_for(self, retry_number: int, exc: BaseException | None) -> float:
        """The scaled wait before retry ``retry_number`` after failure ``exc``."""
        asked = getattr(exc, "retry_after", None)
        seconds = float(asked) if asked is not None else self.backoff(retry_number)
        return seconds * self.wait_scale


@dataclasses.dataclass
class CallStats:
    """What one call cost in attempts and waiting (mutable: filled while the call runs)."""

    attempts: int = 0
    waited_s: float = 0.0
    last_error: str | None = None

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)


async def call_with_retry(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    stats: CallStats | None = None,
    on_retry: Callable[[BaseException, float], None] | None = None,
) -> T:
    """Run ``fn`` under ``policy``; re-raises the last error when the policy gives up.

    A :class:`ModelTransportError` that escapes has been retried as often as the policy allows (its
    message says how often); any other :class:`~chesseval.errors.ModelError` was not retried.
    """
    stats = stats if stats is not None else CallStats()
    started = time.monotonic()

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return policy.wait_for(state.attempt_number, exc)

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number > policy.max_retries:
            return True
        if policy.timeout is None:
            return False
        # Do not start a wait that ends after the deadline: fail now instead of later.
        return time.monotonic() - started + (state.upcoming_sleep or 0.0) >= policy.timeout

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        stats.waited_s += state.upcoming_sleep
        if on_retry is not None and exc is not None:
            on_retry(exc, state.upcoming_sleep)

    async def attempt() -> T:
        stats.attempts += 1
        try:
            return await fn()
        except BaseException as exc:
            stats.last_error = str(exc)
            raise

    # Fast path: most calls succeed at the first attempt, and a tenacity loop costs ~0.1 ms to
    # build and run. After a retryable failure the loop takes over, its attempt 1 replaying it.
    try:
        return await attempt()
    except ModelTransportError as exc:
        first: ModelTransportError | None = exc

    async def replay_then_attempt() -> T:
        nonlocal first
        if first is not None:
            failure, first = first, None
            raise failure
        return await attempt()

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(ModelTransportError),
        wait=wait,
        stop=stop,
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return await retrying(replay_then_attempt)
    except ModelTransportError as exc:
        elapsed = time.monotonic() - started
        raise ModelTransportError(
            f"{exc} (gave up after {stats.attempts} attempt(s) in {elapsed:.1f}s)",
            provider=exc.provider,
            status_code=exc.status_code,
            retry_after=exc.retry_after,
        ) from exc
