"""chesseval: measure how well language models reason ahead, with chess puzzles."""

from __future__ import annotations

__version__ = "0.1.0"
