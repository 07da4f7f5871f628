"""The data files the package reads, all inside it, so that an installed wheel needs nothing else.

``puzzles/``, ``stockfish_config/`` and ``reference/`` are symbolic links to the repository's
top-level ``puzzles/``, ``stockfish_config/`` and ``runs/reference/`` (one copy in git, where a
reader of the repository looks for them); building a wheel copies their contents in (see
``[tool.setuptools.package-data]`` in pyproject.toml). ``prices.toml`` lives here itself.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA_DIR", "PUZZLES_DIR", "STOCKFISH_CONFIG", "REFERENCE_DIR", "PRICES"]

DATA_DIR = Path(__file__).parent
PUZZLES_DIR = DATA_DIR / "puzzles"
"""The bundled suites (``default``, ``starter``): the last place a suite name is looked up."""
STOCKFISH_CONFIG = DATA_DIR / "stockfish_config" / "default.toml"
"""The named engine limits used when neither $CHESSEVAL_ENGINE_CONFIG nor ./stockfish_config/ has one."""
REFERENCE_DIR = DATA_DIR / "reference"
"""The reference runs a result is placed among (only their run.json and results.json are shipped)."""
PRICES = DATA_DIR / "prices.toml"
