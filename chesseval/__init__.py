"""chesseval: measure how well language models reason ahead, with chess puzzles.

Everyday names are re-exported here::

    import chesseval
    result = chesseval.evaluate(chesseval.RunConfig(model="builtin/search", suite="default"))
    df = chesseval.read_run(result.path)

Importing chesseval loads python-chess only: pandas is imported by :func:`read_run` when called.
"""

from __future__ import annotations

__version__ = "0.1.0"

from chesseval.errors import (
    ChessEvalError,
    ConfigError,
    EngineError,
    ModelError,
    PuzzleFormatError,
    RunError,
)
from chesseval.judge import Verdict
from chesseval.moves import MoveKind, ParsedMove, parse_line, parse_move
from chesseval.players import Player, Reply, Turn, Usage
from chesseval.prompts import PromptFormat, PromptOptions, render_prompt
from chesseval.providers import create_player
from chesseval.puzzles import Puzzle, load_puzzles, validate_puzzles
from chesseval.records import read_run
from chesseval.report import summarize
from chesseval.runner import RunConfig, RunResult, evaluate, evaluate_async, play_puzzle
from chesseval.suites import Suite, resolve_suite

__all__ = [
    "__version__",
    "ChessEvalError",
    "ConfigError",
    "EngineError",
    "ModelError",
    "PuzzleFormatError",
    "RunError",
    "Verdict",
    "MoveKind",
    "ParsedMove",
    "parse_move",
    "parse_line",
    "Player",
    "Reply",
    "Turn",
    "Usage",
    "PromptFormat",
    "PromptOptions",
    "render_prompt",
    "create_player",
    "Puzzle",
    "load_puzzles",
    "validate_puzzles",
    "read_run",
    "summarize",
    "RunConfig",
    "RunResult",
    "evaluate",
    "evaluate_async",
    "play_puzzle",
    "Suite",
    "resolve_suite",
]
