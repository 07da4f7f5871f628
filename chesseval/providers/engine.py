"""Stockfish as a reference player: ``engine/stockfish`` with ``-M nodes=N``, ``-M depth=N`` or
``-M movetime=SECONDS``.

A node ladder (1, 10, 100, 1k, 10k nodes) gives reference points of look-ahead that a model can be
placed among. The engine always plays at full strength within its budget: strength limiting
(``UCI_LimitStrength``, ``UCI_Elo``, ``Skill Level``) is refused, because it picks a randomised
weaker move and reports that in place of its best line.

The player reads the board from the :class:`~chesseval.core.players.Turn` (it sits above the client
boundary, like the built-in players) and answers in SAN through the normal puzzle protocol, so
its answers are parsed and judged exactly like a model's.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from chesseval.engine.stockfish import FORBIDDEN_OPTIONS, AnalysisLimit, EngineConfig, load_engine_config
from chesseval.engine.pool import EnginePool
from chesseval.errors import ConfigError
from chesseval.core.players import Reply, Turn
from chesseval.providers.builtin import answer_move

__all__ = ["StockfishPlayer", "create"]

# Generation settings the CLI passes to every player; an engine has no use for them.
_IGNORED = {"temperature", "max_tokens", "reasoning_effort", "max_connections", "max_retries", "timeout", "attempt_timeout", "cache", "base_url", "seed"}
_KNOWN = {"nodes", "depth", "movetime", "time_cap", "processes", "threads", "hash_mb", "config"}


class StockfishPlayer:
    """Stockfish at a fixed budget, answering ``Answer: <SAN>``."""

    def __init__(self, limit: AnalysisLimit, config: EngineConfig | None = None, *, processes: int | None = None) -> None:
        self.limit = limit
        self.config = config or load_engine_config()
        # Timed searches differ from run to run: caching one would replay a single sample.
        self.pool = EnginePool(self.config, processes=processes, cache=not limit.is_timed)

    @property
    def name(self) -> str:
        return "engine/stockfish"

    def describe(self) -> dict[str, Any]:
        return {
            "binary": self.pool.binary,
            "engine_id": self.pool.engine_id,
            "limit": self.limit.to_dict(),
            "limit_key": self.limit.key,
            "threads": self.config.threads,
            "hash_mb": self.config.hash_mb,
            "processes": self.pool.processes,
        }

    async def play(self, turn: Turn) -> Reply:
        start = time.perf_counter()
        # A timed search is not cached, so the engine may play the puzzle the way it plays a game:
        # keeping its hash from one solver move to the next (python-chess's own `play` does the
        # same). Node and depth limits start afresh so that their results stay cacheable.
        game = ("puzzle", turn.puzzle.id) if self.limit.is_timed else None
        result = await self.pool.analyse(turn.board, self.limit, game=game)
        latency = time.perf_counter() - start
        if result.best_move is None:
            return Reply(text="", latency_s=latency)
        move = turn.board.parse_uci(result.best_move)
        return Reply(
            text=f"Answer: {answer_move(turn.board, move)}",
            latency_s=latency,
            cached=result.cached,
            extra={"engine": result.engine_id, "score": str(result.score), "depth": result.depth, "nodes": result.nodes},
        )

    async def aclose(self) -> None:
        await self.pool.aclose()


def _positive(options: dict[str, Any], key: str, kind: type) -> Any:
    raw = options[key]
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"engine/stockfish option {key}={raw!r} is not a {'whole ' if kind is int else ''}number") from None
    if not value > 0:
        raise ConfigError(f"engine/stockfish option {key}={raw!r} must be > 0")
    return value


def create(name: str, options: dict[str, Any]) -> StockfishPlayer:
    if name != "stockfish":
        raise ConfigError(f"unknown engine player {name!r}; the only one is 'engine/stockfish'")
    forbidden = {k for k in options if k.lower().replace("_", " ") in FORBIDDEN_OPTIONS or k.lower() in FORBIDDEN_OPTIONS}
    if forbidden:
        raise ConfigError(
            f"engine/stockfish refuses {sorted(forbidden)!r}: strength limiting reports a randomised weaker line; "
            "use nodes=N, depth=N or movetime=SECONDS instead"
        )
    unknown = set(options) - _KNOWN - _IGNORED
    if unknown:
        raise ConfigError(f"engine/stockfish does not take option(s) {sorted(unknown)!r}; it takes {sorted(_KNOWN)!r}")
    budget = [k for k in ("nodes", "depth", "movetime") if k in options]
    if len(budget) != 1:
        raise ConfigError(f"engine/stockfish needs exactly one of -M nodes=N, -M depth=N, -M movetime=SECONDS; got {budget!r}")
    config = load_engine_config(options.get("config"))
    if "threads" in options or "hash_mb" in options:
        config = dataclasses.replace(
            config,
            threads=_positive(options, "threads", int) if "threads" in options else config.threads,
            hash_mb=_positive(options, "hash_mb", int) if "hash_mb" in options else config.hash_mb,
        )
    cap = _positive(options, "time_cap", float) if "time_cap" in options else 10.0
    if "movetime" in options:
        limit = AnalysisLimit(time=_positive(options, "movetime", float))
    elif "nodes" in options:
        limit = AnalysisLimit(nodes=_positive(options, "nodes", int), time=cap)
    else:
        limit = AnalysisLimit(depth=_positive(options, "depth", int), time=cap)
    processes = _positive(options, "processes", int) if "processes" in options else None
    return StockfishPlayer(limit, config, processes=processes)
