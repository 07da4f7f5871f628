"""``chesseval cache``: inspect and clear the on-disk response cache."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from chesseval.providers.cache import ResponseCache, default_cache_dir
from chesseval.cli.common import command_group
from chesseval.errors import ConfigError

__all__ = ["register", "parse_age"]

_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """``"7d"`` -> seconds; units s, m, h, d, w."""
    m = _AGE.match(text.strip().lower())
    if m is None:
        raise ConfigError(f"--older-than {text!r} is not an age like 30m, 12h or 7d")
    return float(m.group(1)) * _AGE_UNITS[m.group(2)]


def _cache(args: argparse.Namespace) -> ResponseCache:
    return ResponseCache(Path(args.cache_dir) if args.cache_dir else default_cache_dir())


def _info(args: argparse.Namespace) -> int:
    cache = _cache(args)
    count, size = cache.size(args.provider)
    print(f"{cache.directory}: {count} cached response(s), {size / 1e6:.1f} MB")
    return 0


def _clear(args: argparse.Namespace) -> int:
    cache = _cache(args)
    older = parse_age(args.older_than) if args.older_than else None
    removed = cache.clear(provider=args.provider, older_than_s=older)
    print(f"removed {removed} cached response(s) from {cache.directory}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    group = command_group(sub, "cache", help="inspect or clear the response cache")
    for name, handler, text in (("info", _info, "how many responses are cached"), ("clear", _clear, "delete cached responses")):
        p = group.add_parser(name, help=text)
        p.add_argument("--cache-dir", help="cache directory (default: $CHESSEVAL_CACHE_DIR or ~/.cache/chesseval)")
        p.add_argument("--provider", help="only this provider's responses (e.g. openai, openai-api/local)")
        if name == "clear":
            p.add_argument("--older-than", metavar="AGE", help="only responses older than AGE (e.g. 7d, 12h)")
        p.set_defaults(handler=handler)
