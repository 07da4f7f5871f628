"""chesseval: measure how well language models reason ahead, with chess puzzles.

Everyday names are re-exported here::

    import chesseval
    result = chesseval.evaluate(chesseval.RunConfig(model="builtin/search", suite="default"))
    df = chesseval.read_run(result.path)

Importing chesseval loads python-chess only: pandas is imported by :func:`read_run` when called.
"""

from __future__ import annotations

from chesseval.api import evaluate, evaluate_async
from chesseval.core.judge import Verdict
from chesseval.core.moves import MoveKind, ParsedMove, parse_move
from chesseval.core.players import Player, Reply, Turn, Usage
from chesseval.core.prompts import PromptFormat, PromptOptions, render_prompt
from chesseval.core.puzzles import Puzzle, load_puzzles, validate_puzzles
from chesseval.core.records import read_run
from chesseval.core.results import summarize
from chesseval.core.runner import RunConfig, RunResult, play_puzzle
from chesseval.core.suites import Suite, resolve_suite
from chesseval.errors import (
    ChessEvalError,
    ConfigError,
    EngineError,
    ModelError,
    PuzzleFormatError,
    RunError,
)
from chesseval.providers import create_player
from chesseval.version import __version__

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
