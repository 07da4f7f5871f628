"""Generation and transport settings for HTTP providers, parsed from ``-M``-style options.

Options arrive as strings (``-M temperature=0.2``) or as values (from the Python API); ``None``
means "not set". Every value is checked here, before any call, and a bad one is a one-line
:class:`~chesseval.errors.ConfigError` naming the option and the offending value.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable, Mapping
from typing import Any

from chesseval.providers.credentials import is_credential_name
from chesseval.errors import ConfigError

__all__ = ["ReasoningEffort", "Settings", "parse_settings", "parse_bool", "parse_int", "parse_float", "COMMON_OPTIONS"]


class ReasoningEffort(enum.StrEnum):
    """``--reasoning-effort``: one scale, mapped to each provider's own parameter."""

    NONE = "none"
    MINIMAL = "minimal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    XHIGH = "xhigh"
    MAX = "max"


COMMON_OPTIONS = frozenset(
    {
        "temperature",
        "max_tokens",
        "seed",
        "reasoning_effort",
        "max_connections",
        "max_retries",
        "timeout",
        "attempt_timeout",
        "base_url",
        "cache",
        "cache_dir",
        "prices",
        "api_key",
    }
)
"""Options every HTTP provider takes (the runner passes the generation and transport ones)."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one provider instance sends and how it behaves on the wire."""

    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    reasoning_effort: ReasoningEffort | None = None
    max_connections: int = 16
    max_retries: int = 6
    timeout: float | None = 900.0
    """Total seconds for one call, retries and waits included."""
    attempt_timeout: float | None = 300.0
    """Seconds for one HTTP attempt; a slower answer is abandoned and retried."""
    base_url: str | None = None
    cache: bool = True
    cache_dir: str | None = None
    prices: str | None = None
    api_key: str | None = dataclasses.field(default=None, repr=False)
    """A key given as an option (``-M api_key=...``); never recorded."""
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Provider-specific options (``api``, ``thinking``, ...), already checked by the provider."""

    def generation(self) -> dict[str, Any]:
        """The generation settings worth recording (no transport details, no secrets)."""
        out: dict[str, Any] = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "reasoning_effort": None if self.reasoning_effort is None else str(self.reasoning_effort),
        }
        out.update({k: v for k, v in self.extra.items() if not is_credential_name(k)})
        return out


def parse_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"option {key}={value!r} is not true/false")


def parse_int(key: str, value: Any, *, minimum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"option {key}={value!r} is not a whole number")
    try:
        number = int(value) if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise ConfigError(f"option {key}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"option {key}={value!r} must be at least {minimum}")
    return number


def parse_float(key: str, value: Any, *, minimum: float | None = None, positive: bool = False) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"option {key}={value!r} is not a number")
    try:
        number = float(value) if isinstance(value, (int, float)) else float(str(value).strip())
    except ValueError:
        raise ConfigError(f"option {key}={value!r} is not a number") from None
    if not math.isfinite(number):
        raise ConfigError(f"option {key}={value!r} is not a finite number")
    if positive and number <= 0:
        raise ConfigError(f"option {key}={value!r} must be greater than 0")
    if minimum is not None and number < minimum:
        raise ConfigError(f"option {key}={value!r} must be at least {minimum:g}")
    return number


def _optional_seconds(key: str, value: Any) -> float | None:
    if isinstance(value, str) and value.strip().lower() in {"none", "off", "0"}:
        return None
    return parse_float(key, value, positive=True)


def parse_settings(
    options: Mapping[str, Any],
    *,
    model: str,
    provider_options: Iterable[str] = (),
    defaults: Mapping[str, Any] | None = None,
) -> Settings:
    """Check and convert ``options`` for ``model``; unknown option names are an error (typos cost money)."""
    allowed = COMMON_OPTIONS | set(provider_options)
    given = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ConfigError(f"{model}: unknown model option(s) {unknown!r}; known: {sorted(allowed)!r}")
    merged: dict[str, Any] = {**(defaults or {}), **given}
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in merged.items():
        if key == "temperature":
            kwargs[key] = parse_float(key, value, minimum=0.0)
        elif key == "max_tokens":
            kwargs[key] = parse_int(key, value, minimum=1)
        elif key == "seed":
            kwargs[key] = parse_int(key, value)
        elif key == "reasoning_effort":
            try:
                kwargs[key] = ReasoningEffort(str(value).strip().lower())
            except ValueError:
                choices = "|".join(e.value for e in ReasoningEffort)
                raise ConfigError(f"option reasoning_effort={value!r} is not one of {choices}") from None
        elif key == "max_connections":
            kwargs[key] = parse_int(key, value, minimum=1)
        elif key == "max_retries":
            kwargs[key] = parse_int(key, value, minimum=0)
        elif key in ("timeout", "attempt_timeout"):
            kwargs[key] = _optional_seconds(key, value)
        elif key == "cache":
            kwargs[key] = parse_bool(key, value)
        elif key in ("base_url", "cache_dir", "prices", "api_key"):
            text = str(value).strip()
            kwargs[key] = text or None
        else:
            extra[key] = value
    return Settings(**kwargs, extra=extra)
