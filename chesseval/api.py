"""The facade that ties the stages together: a model name and a run configuration in, a run out.

:func:`evaluate` resolves the model name to a player (:mod:`chesseval.providers`), plays the suite
(:mod:`chesseval.core.runner`) and, when ``config.engine`` names a limit, checks every played move
with Stockfish after the run (:mod:`chesseval.engine.check`). It sits above those stages so that the
core never imports a provider or the engine.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

from chesseval.core.players import Player
from chesseval.core.puzzles import load_puzzles
from chesseval.core.records import RunDir
from chesseval.core.runner import RunConfig, RunResult, run_async
from chesseval.core.suites import resolve_suite
from chesseval.errors import ConfigError
from chesseval.providers import create_player

__all__ = ["evaluate", "evaluate_async"]


async def evaluate_async(
    config: RunConfig,
    *,
    player: Player | None = None,
    progress: bool = False,
    on_run_dir: Callable[[RunDir], None] | None = None,
) -> RunResult:
    """Run (or resume) an evaluation and return where it is and what it found.

    ``player`` overrides the one ``config.model`` names (for scripted players in tests and
    notebooks). Raises :class:`ConfigError`/:class:`PuzzleFormatError` before any call, and
    :class:`ModelFatalError` when a provider refuses all further work (the run is kept, status
    ``error``).
    """
    if config.max_connections < 1:
        raise ConfigError(f"max_connections must be at least 1, got {config.max_connections!r}")
    suite = resolve_suite(config.suite)
    puzzles = load_puzzles(suite.path, limit=config.limit)
    if config.engine:
        _check_engine_available(config.engine)
    if player is None:
        player = create_player(config.model, {**config.model_options, "max_connections": config.max_connections})
    result = await run_async(config, player, suite=suite, puzzles=puzzles, progress=progress, on_run_dir=on_run_dir)
    if config.engine:
        from chesseval.engine.check import rescore_run_async

        await rescore_run_async(result.path, config.engine, puzzles={p.id: p for p in puzzles})
        # now with the engine summary beside the strict numbers
        result = dataclasses.replace(result, results=RunDir(result.path).read_results() or result.results)
    return result


def _check_engine_available(limit: str) -> None:
    """A bad limit name or a missing Stockfish is reported before any model call is made."""
    from chesseval.engine.stockfish import find_stockfish, load_engine_config, parse_limit

    engine_config = load_engine_config()
    parse_limit(limit, engine_config)
    find_stockfish(engine_config)


def evaluate(config: RunConfig, *, player: Player | None = None, progress: bool = False, on_run_dir: Callable[[RunDir], None] | None = None) -> RunResult:
    """Synchronous facade over :func:`evaluate_async`."""
    return asyncio.run(evaluate_async(config, player=player, progress=progress, on_run_dir=on_run_dir))
