"""Cost accounting: a price table in TOML that users extend, and the cost of one call.

The packaged table (``chesseval/data/prices.toml``) is read first, then
``$XDG_CONFIG_HOME/chesseval/prices.toml`` (``~/.config/...``), then the file named by
``CHESSEVAL_PRICES``, then any file given to the run; later entries override earlier ones.
A model with no price has cost ``None`` ("unknown"), never 0: a silent zero would make an
expensive run look free.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from chesseval.errors import ConfigError
from chesseval.core.players import Usage

__all__ = ["Price", "PriceTable", "price_files", "load_prices", "PRICES_ENV"]

PRICES_ENV = "CHESSEVAL_PRICES"
_FIELDS = ("input", "cached_input", "output")


@dataclasses.dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cached_input: float | None = None
    """Price of input tokens read from the provider's prompt cache; ``input`` when not given."""

    def cost(self, usage: Usage) -> float | None:
        """Dollars for one call's usage; None if the provider did not report the token counts."""
        if usage.input_tokens is None or usage.output_tokens is None:
            return None
        cached = min(usage.cached_tokens or 0, usage.input_tokens)
        cached_price = self.input if self.cached_input is None else self.cached_input
        dollars = (usage.input_tokens - cached) * self.input + cached * cached_price + usage.output_tokens * self.output
        return dollars / 1_000_000


def _parse_price(source: str, provider: str, model: str, entry: Any) -> Price:
    where = f"{source}: [{provider}.{model!r}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a table with input and output prices, got {entry!r}")
    unknown = set(entry) - set(_FIELDS)
    if unknown:
        raise ConfigError(f"{where} has unknown field(s) {sorted(unknown)!r}; allowed: {list(_FIELDS)!r}")
    values: dict[str, float] = {}
    for name in _FIELDS:
        if name not in entry:
            continue
        value = entry[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ConfigError(f"{where} {name} = {value!r} is not a price >= 0 (dollars per million tokens)")
        values[name] = float(value)
    for required in ("input", "output"):
        if required not in values:
            raise ConfigError(f"{where} lacks {required!r} (dollars per million tokens)")
    return Price(input=values["input"], output=values["output"], cached_input=values.get("cached_input"))


class PriceTable:
    """Prices by provider and model (glob patterns allowed; the longest matching pattern wins)."""

    def __init__(self, entries: Mapping[str, Mapping[str, Price]] | None = None) -> None:
        self._entries: dict[str, dict[str, Price]] = {p: dict(m) for p, m in (entries or {}).items()}
        self.sources: list[str] = []

    def add_file(self, path: str | os.PathLike[str]) -> None:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"price file {str(p)!r} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read price file {str(p)!r}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"price file {str(p)!r} is not valid TOML: {exc}") from None
        self.add_mapping(data, source=str(p))

    def add_mapping(self, data: Mapping[str, Any], *, source: str = "<prices>") -> None:
        for provider, models in data.items():
            if not isinstance(models, Mapping):
                raise ConfigError(f"{source}: [{provider!r}] must be a table of models, got {models!r}")
            table = self._entries.setdefault(provider, {})
            for model, entry in models.items():
                table[model] = _parse_price(source, provider, model, entry)
        self.sources.append(source)

    def lookup(self, provider: str, model: str) -> Price | None:
        table = self._entries.get(provider)
        if not table:
            return None
        if model in table:
            return table[model]
        matches = [pattern for pattern in table if fnmatch.fnmatchcase(model, pattern)]
        if not matches:
            return None
        return table[max(matches, key=len)]

    def cost(self, provider: str, model: str, usage: Usage) -> float | None:
        price = self.lookup(provider, model)
        return None if price is None else price.cost(usage)


def price_files(extra: Iterable[str | os.PathLike[str]] = (), *, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The user price files that exist, in the order they apply (after the packaged table)."""
    env = os.environ if environ is None else environ
    config_home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    files: list[Path] = []
    user = config_home / "chesseval" / "prices.toml"
    if user.is_file():
        files.append(user)
    if env.get(PRICES_ENV):
        files.append(Path(env[PRICES_ENV]))  # named explicitly: a missing file is an error
    files.extend(Path(p) for p in extra)
    return files


def load_prices(extra: Iterable[str | os.PathLike[str]] = (), *, environ: Mapping[str, str] | None = None) -> PriceTable:
    """The packaged table overridden by the user's files (see the module docstring)."""
    table = PriceTable()
    packaged = resources.files("chesseval").joinpath("data", "prices.toml")
    table.add_mapping(tomllib.loads(packaged.read_text(encoding="utf-8")), source="chesseval/data/prices.toml")
    for path in price_files(extra, environ=environ):
        table.add_file(path)
    return table
