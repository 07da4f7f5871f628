"""The engine pool against the real Stockfish: searches, cache, crash and hang recovery."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import chess
import pytest

from chesseval.engine.stockfish import AnalysisLimit, EngineConfig, Score
from chesseval.engine.pool import AnalysisCache, EnginePool
from chesseval.errors import EngineError

pytestmark = pytest.mark.stockfish

MATE_IN_1 = "6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"
ITALIAN = "r1bqkb1r/pppp1ppp/2n2n2/4p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4"


def _config(stockfish_path: str, tmp_path: Path, **kw: object) -> EngineConfig:
    return EngineConfig(path=stockfish_path, cache_dir=str(tmp_path / "cache"), **kw)  # type: ignore[arg-type]


def test_analyse_finds_mate_and_scores_root_move(stockfish_path: str, tmp_path: Path) -> None:
    async def go() -> None:
        async with EnginePool(_config(stockfish_path, tmp_path), processes=1) as pool:
            board = chess.Board(MATE_IN_1)
            best = await pool.analyse(board, AnalysisLimit(nodes=2000, time=5))
            assert best.best_move == "a1a8" and best.score == Score(mate=1)
            bad = await pool.analyse(board, AnalysisLimit(nodes=2000, time=5), root_move=chess.Move.from_uci("a1a7"))
            assert bad.best_move == "a1a7" and bad.score.mate is None  # a rook up, but no mate in 1
            assert pool.engine_id == "Stockfish 15.1 threads=1 hash=16" or pool.engine_id.startswith("Stockfish")
            with pytest.raises(ValueError, match="not legal"):
                await pool.analyse(board, AnalysisLimit(nodes=10, time=1), root_move=chess.Move.from_uci("a1b2"))
            over = chess.Board(MATE_IN_1)
            over.push_uci("a1a8")
            with pytest.raises(ValueError, match="already over"):
                await pool.analyse(over, AnalysisLimit(nodes=10, time=1))

    asyncio.run(go())


def test_cache_makes_a_second_pass_free(stockfish_path: str, tmp_path: Path) -> None:
    limit = AnalysisLimit(nodes=5000, time=5)
    boards = [chess.Board(ITALIAN), chess.Board(MATE_IN_1)]

    async def run_once() -> tuple[list[object], int, int]:
        async with EnginePool(_config(stockfish_path, tmp_path), processes=2) as pool:
            results = [await pool.analyse(b, limit) for b in boards]
            return [(r.best_move, r.score) for r in results], pool.stats.searches, pool.stats.cache_hits

    first, searches1, hits1 = asyncio.run(run_once())
    second, searches2, hits2 = asyncio.run(run_once())
    assert (searches1, hits1) == (2, 0)
    assert (searches2, hits2) == (0, 2)
    assert first == second
    # torn last line (a killed writer) is skipped, whole lines still read
    files = list((tmp_path / "cache").rglob("*.jsonl"))
    assert len(files) == 1
    with open(files[0], "a") as fh:
        fh.write('{"k": "garbage')
    assert asyncio.run(run_once())[1:] == (0, 2)
    # a new entry after the torn line is still readable
    cache = AnalysisCache(tmp_path / "cache")
    entry = cache.get(boards[0].fen(), None, "Stockfish 15.1 threads=1 hash=16", limit.key)
    assert entry is not None and entry.cached


def test_same_position_same_result_without_cache(stockfish_path: str, tmp_path: Path) -> None:
    # one thread + node limit + ucinewgame per search: reproducible, which the cache relies on
    async def go() -> list[tuple[str | None, Score, int | None]]:
        async with EnginePool(_config(stockfish_path, tmp_path), processes=1, cache=False) as pool:
            out = []
            for _ in range(2):
                r = await pool.analyse(chess.Board(ITALIAN), AnalysisLimit(nodes=20000, time=10))
                out.append((r.best_move, r.score, r.nodes))
            return out

    a, b = asyncio.run(go())
    assert a == b


def test_killed_engine_is_restarted_and_position_retried(stockfish_path: str, tmp_path: Path) -> None:
    async def go() -> None:
        async with EnginePool(_config(stockfish_path, tmp_path), processes=1, cache=False) as pool:
            await pool.ensure_started()
            [pid] = pool.pids()
            task = asyncio.ensure_future(pool.analyse(chess.Board(ITALIAN), AnalysisLimit(nodes=400_000, time=10)))
            await asyncio.sleep(0.15)
            os.kill(pid, signal.SIGKILL)
            result = await task
            assert result.best_move is not None
            assert pool.stats.crashes == 1 and pool.stats.restarts == 1
            assert pool.pids() and pool.pids() != [pid]

    asyncio.run(go())


def test_hung_engine_is_killed_restarted_and_retried(stockfish_path: str, tmp_path: Path) -> None:
    async def go() -> None:
        cfg = _config(stockfish_path, tmp_path, margin_s=0.5)
        async with EnginePool(cfg, processes=1, cache=False) as pool:
            await pool.ensure_started()
            [pid] = pool.pids()
            os.kill(pid, signal.SIGSTOP)  # alive but silent: only the deadline can notice
            result = await asyncio.wait_for(pool.analyse(chess.Board(ITALIAN), AnalysisLimit(nodes=2000, time=0.5)), 20)
            assert result.best_move is not None
            assert pool.stats.hangs == 1 and pool.stats.restarts == 1
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)  # the stopped engine was killed, not leaked

    asyncio.run(go())


def test_engine_that_keeps_dying_gives_engine_error(stockfish_path: str, tmp_path: Path) -> None:
    async def go() -> None:
        cfg = _config(stockfish_path, tmp_path, max_retries=1, margin_s=1.0)
        async with EnginePool(cfg, processes=1, cache=False) as pool:
            await pool.ensure_started()

            async def killer() -> None:
                while True:
                    for pid in pool.pids():
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                    await asyncio.sleep(0.02)

            k = asyncio.ensure_future(killer())
            with pytest.raises(EngineError, match="failed 2 times"):
                await pool.analyse(chess.Board(ITALIAN), AnalysisLimit(nodes=50_000_000, time=1.5))
            k.cancel()

    asyncio.run(go())


def test_pool_runs_searches_in_parallel(stockfish_path: str, tmp_path: Path) -> None:
    async def go() -> None:
        async with EnginePool(_config(stockfish_path, tmp_path), processes=2, cache=False) as pool:
            boards = [chess.Board(ITALIAN), chess.Board(MATE_IN_1), chess.Board(), chess.Board(ITALIAN)]
            results = await asyncio.gather(*(pool.analyse(b, AnalysisLimit(nodes=3000, time=5)) for b in boards))
            assert all(r.best_move for r in results)
            assert len(pool.pids()) == 2

    asyncio.run(go())
