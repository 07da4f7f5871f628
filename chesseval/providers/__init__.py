"""Provider registry: ``provider/model`` names to players, with lazy imports.

A provider module is imported only when a model of that provider is asked for, so that
``import chesseval`` stays light and a provider's optional needs never break the others.
Register a provider by adding ``name: "module:factory"`` to :data:`PROVIDERS`; a factory is
called as ``factory(model, options)`` where ``model`` is the part after ``provider/`` and
``options`` are the ``-M key=value`` options (strings) merged with generation settings.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from chesseval.errors import ConfigError, UnknownModelError
from chesseval.core.players import Player

__all__ = ["PROVIDERS", "create_player", "split_model_name", "parse_model_options"]

PROVIDERS: dict[str, str] = {
    "builtin": "chesseval.providers.builtin:create",
    "openai": "chesseval.providers.openai:create",
    "openai-api": "chesseval.providers.openai:create_compatible",
    "ollama": "chesseval.providers.openai:create_ollama",
    "vllm": "chesseval.providers.openai:create_vllm",
    "llamacpp": "chesseval.providers.openai:create_llamacpp",
    "openrouter": "chesseval.providers.openai:create_openrouter",
    "anthropic": "chesseval.providers.anthropic:create",
    "google": "chesseval.providers.google:create",
    "engine": "chesseval.providers.engine:create",
}


def split_model_name(model: str) -> tuple[str, str]:
    """``"builtin/oracle"`` -> ``("builtin", "oracle")``."""
    provider, sep, name = model.partition("/")
    if not sep or not provider or not name:
        raise ConfigError(f"model {model!r} is not of the form 'provider/model' (e.g. 'builtin/oracle')")
    return provider, name


def parse_model_options(pairs: list[str] | None) -> dict[str, str]:
    """``["depth=2", "seed=1"]`` -> ``{"depth": "2", "seed": "1"}``."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"model option {pair!r} is not of the form key=value")
        out[key.strip()] = value.strip()
    return out


def create_player(model: str, options: Mapping[str, Any] | None = None) -> Player:
    """Build the player for ``provider/model``; raises before any call if it cannot be used."""
    provider, name = split_model_name(model)
    target = PROVIDERS.get(provider)
    if target is None:
        known = ", ".join(sorted(PROVIDERS))
        raise UnknownModelError(f"unknown provider {provider!r} in model {model!r}; known providers: {known}")
    module_name, _, attr = target.partition(":")
    factory: Callable[[str, dict[str, Any]], Player] = getattr(importlib.import_module(module_name), attr)
    return factory(name, dict(options or {}))
