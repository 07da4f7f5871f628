"""The data files the package reads, all inside it, so that an installed wheel needs nothing else.

``puzzles/``, ``stockfish_config/`` and ``reference/`` are symbolic links to the repository's
top-level ``puzzles/``, ``stockfish_config/`` and ``runs/reference/`` (one copy in git, where a
reader of the repository looks for them); building a wheel copies their contents in (see
``[tool.setuptools.package-data]`` in pyproject.toml). ``prices.toml`` lives here itself.
:func:`default_cache_dir` is where data the package makes at run time goes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DATA_DIR", "PUZZLES_DIR", "STOCKFISH_CONFIG", "REFERENCE_DIR", "PRICES", "CACHE_DIR_ENV", "default_cache_dir"]

DATA_DIR = Path(__file__).parent
PUZZLES_DIR = DATA_DIR / "puzzles"
"""The bundled suites (``default``, ``starter``): the last place a suite name is looked up."""
STOCKFISH_CONFIG = DATA_DIR / "stockfish_config" / "default.toml"
"""The named engine limits used when neither $CHESSEVAL_ENGINE_CONFIG nor ./stockfish_config/ has one."""
REFERENCE_DIR = DATA_DIR / "reference"
"""The reference runs a result is placed among (only their run.json and results.json are shipped)."""
PRICES = DATA_DIR / "prices.toml"

CACHE_DIR_ENV = "CHESSEVAL_CACHE_DIR"


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where chesseval caches what it fetched or computed: ``$CHESSEVAL_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/chesseval``, else ``~/.cache/chesseval``. The one rule for every cache: the
    response cache at the top, ``engine/`` for engine results, the puzzle database download."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "chesseval"
