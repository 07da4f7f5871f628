"""Engine checking of played moves and re-scoring a finished run, against the real Stockfish.

The run folders here are written by a small helper in the records format (data above the engine
boundary); the engine side is always the real Stockfish.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import chess
import pytest

from chesseval.core.puzzles import Puzzle, load_puzzles, write_lichess_csv
from chesseval.engine.check import ENGINE_FILE, check_move, read_engine_lines, rescore_run, rescore_run_async
from chesseval.engine.pool import EnginePool
from chesseval.engine.report import engine_summary, format_engine_summary
from chesseval.engine.stockfish import AnalysisLimit, EngineConfig

pytestmark = pytest.mark.stockfish

ROOT = Path(__file__).resolve().parents[2]
# White is a queen up; Qd8?? loses it to Rxd8.
QUEEN_UP = Puzzle(id="qup01", fen="4r1k1/5ppp/8/8/8/8/5PPP/R2Q2K1 w - - 0 1", moves=("d1d5",), has_setup_move=False, rating=1000)
TINY = AnalysisLimit(nodes=3000, time=5.0, name="tiny")


def _cfg(stockfish_path: str, tmp_path: Path, **kw: Any) -> EngineConfig:
    return EngineConfig(path=stockfish_path, cache_dir=str(tmp_path / "cache"), **kw)


def test_check_move_drop_blunder_and_lenient(stockfish_path: str, tmp_path: Path) -> None:
    async def go() -> None:
        async with EnginePool(_cfg(stockfish_path, tmp_path), processes=1) as pool:
            board = QUEEN_UP.board()
            keep = await check_move(pool, board, chess.Move.from_uci("h2h3"), TINY)
            assert keep.played_wins and keep.accepted and not keep.blunder
            lose = await check_move(pool, board, chess.Move.from_uci("d1d8"), TINY)
            assert not lose.played_wins and not lose.accepted and lose.blunder and lose.wc_drop >= 0.3
            assert lose.best != "d1d8" and lose.wc_best >= 0.6
            mate = chess.Board("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1")
            now = await check_move(pool, mate, chess.Move.from_uci("a1a8"), TINY)
            assert now.mates_now and now.accepted and now.wc_drop == 0.0
            slow = await check_move(pool, mate, chess.Move.from_uci("h2h3"), TINY)
            assert not slow.accepted  # a mate in 1 was there: only as fast a mate is accepted

    asyncio.run(go())


class _HalfRightPlayer:
    """Solves the puzzles at even positions of the suite; in the others it plays a seeded random legal move at a seeded solver move (above the boundary:
    the runner, parser, judge and records are the real ones)."""

    def __init__(self, order: dict[str, int], seed: int = 1) -> None:
        self.order = order
        self.seed = seed

    @property
    def name(self) -> str:
        return "test/half-right"

    def describe(self) -> dict[str, Any]:
        return {"seed": self.seed}

    async def play(self, turn: Any) -> Any:
        from chesseval.core.players import Reply

        puzzle = turn.puzzle
        rng = random.Random(f"{self.seed}:{puzzle.id}")
        fail_at = rng.randrange(puzzle.n_solver_moves)
        move = chess.Move.from_uci(puzzle.solution[turn.index])
        if self.order[puzzle.id] % 2 and turn.index == fail_at:
            others = sorted((m for m in turn.board.legal_moves if m != move), key=lambda m: m.uci())
            move = rng.choice(others)
        return Reply(text=f"Answer: {turn.board.san(move)}")

    async def aclose(self) -> None:
        return None


def _make_run(tmp_path: Path, puzzles: list[Puzzle], seed: int = 1) -> Path:
    """A real run (runner, parser, judge, records) of a scripted player on ``puzzles``."""
    from chesseval.api import evaluate
    from chesseval.core.runner import RunConfig

    csv = tmp_path / "suite.csv"
    with open(csv, "w", encoding="utf-8", newline="") as fh:
        write_lichess_csv(puzzles, fh)
    player = _HalfRightPlayer({p.id: k for k, p in enumerate(puzzles)}, seed)
    result = evaluate(RunConfig(model="test/half-right", suite=str(csv), runs_dir=tmp_path / "runs", max_connections=2), player=player)
    return Path(result.path)


@pytest.fixture
def sample_puzzles(lichess_sample: Path) -> list[Puzzle]:
    return load_puzzles(lichess_sample, limit=16)


def test_rescore_adds_engine_lines_and_summary(stockfish_path: str, tmp_path: Path, sample_puzzles: list[Puzzle]) -> None:
    run = _make_run(tmp_path, sample_puzzles)
    records_before = (run / "records.jsonl").read_bytes()
    cfg = _cfg(stockfish_path, tmp_path)
    stats = rescore_run(run, TINY, config=cfg, processes=2)
    assert stats.errors == 0 and stats.checked == stats.moves > len(sample_puzzles)
    assert (run / "records.jsonl").read_bytes() == records_before  # never rewritten
    lines = read_engine_lines(run, "tiny")
    assert len(lines) == stats.moves
    for ln in lines:
        assert ln["engine"].startswith("Stockfish") and ln["best_uci"] and 0 <= ln["wc_drop"] <= 2
        if ln["played_uci"] == ln["best_uci"]:
            assert ln["wc_drop"] == 0
    rows = engine_summary(run, [0, 1500, 4000])
    total = rows[-1]
    assert total.bucket == "all" and total.puzzles == len(sample_puzzles)
    assert total.strict_solved == len(sample_puzzles) // 2
    assert total.strict_solved <= total.lenient_solved <= total.puzzles
    assert total.moves_checked == stats.moves and total.moves_unchecked == 0
    assert total.blunders >= 1 and 0 < total.mean_wc_drop < 1  # random moves do blunder
    assert sum(r.puzzles for r in rows[:-1]) == total.puzzles
    assert "lenient" in format_engine_summary(rows)

    # A second pass is free: nothing to check, no engine search, file unchanged.
    before = (run / ENGINE_FILE).read_bytes()
    again = rescore_run(run, TINY, config=cfg, processes=2)
    assert (again.checked, again.skipped, again.searches) == (0, stats.moves, 0)
    assert (run / ENGINE_FILE).read_bytes() == before

    # A fresh engine.jsonl is rebuilt from the analysis cache without searching.
    (run / ENGINE_FILE).unlink()
    cached = rescore_run(run, TINY, config=cfg, processes=2)
    assert cached.checked == stats.moves and cached.searches == 0 and cached.cache_hits > 0

    # Lines are judged again from their stored scores on the one cp scale: a line written before
    # the scale (no cp_scale, derived fields judged on raw cp) reads the same as a new one.
    assert all(ln["cp_scale"] == pytest.approx(361 / 208) for ln in read_engine_lines(run, "tiny"))
    old_style = []
    for ln in read_engine_lines(run, "tiny"):
        ln.pop("cp_scale")
        ln.update(engine_accepted=not ln["engine_accepted"], wc_drop=0.0, blunder=False)
        old_style.append(json.dumps(ln))
    (run / ENGINE_FILE).write_text("\n".join(old_style) + "\n")
    assert engine_summary(run, [0, 1500, 4000]) == rows


def test_engine_killed_during_rescore_loses_nothing(stockfish_path: str, tmp_path: Path, sample_puzzles: list[Puzzle]) -> None:
    run = _make_run(tmp_path, sample_puzzles)
    limit = AnalysisLimit(nodes=60_000, time=3.0, name="kill")

    async def go() -> Any:
        # More retries than kills: three kills may all hit the same position.
        async with EnginePool(_cfg(stockfish_path, tmp_path, margin_s=1.0, max_retries=5), processes=2, cache=False) as pool:
            task = asyncio.ensure_future(rescore_run_async(run, limit, pool=pool))
            killed = 0
            while not task.done() and killed < 3:
                await asyncio.sleep(0.3)
                for pid in pool.pids()[:1]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                        killed += 1
            stats = await task
            # The last kill may land after the last search; two searches at once use both
            # engines, so a killed one must be restarted now if it was not already.
            board = chess.Board()
            await asyncio.gather(*(pool.analyse(board, AnalysisLimit(nodes=2_000, time=3.0), use_cache=False) for _ in range(2)))
            return stats, pool.stats

    stats, pstats = asyncio.run(go())
    # A kill between searches may look like a hang (the engine never answers): both recover.
    assert pstats.crashes + pstats.hangs >= 1 and pstats.restarts >= 1
    assert stats.errors == 0 and stats.checked == stats.moves
    lines = read_engine_lines(run)
    assert len(lines) == stats.moves
    assert len({(ln["puzzle_id"], ln["turn"]) for ln in lines}) == stats.moves


def test_hung_engine_during_rescore_is_recovered(stockfish_path: str, tmp_path: Path, sample_puzzles: list[Puzzle]) -> None:
    run = _make_run(tmp_path, sample_puzzles[:6])
    limit = AnalysisLimit(nodes=20_000, time=0.5, name="hang")

    async def go() -> Any:
        async with EnginePool(_cfg(stockfish_path, tmp_path, margin_s=0.5), processes=1, cache=False) as pool:
            await pool.ensure_started()
            os.kill(pool.pids()[0], signal.SIGSTOP)
            stats = await rescore_run_async(run, limit, pool=pool)
            return stats, pool.stats

    stats, pstats = asyncio.run(go())
    assert pstats.hangs == 1 and pstats.restarts == 1
    assert stats.errors == 0 and len(read_engine_lines(run)) == stats.moves


_RESCORE_SCRIPT = """
import sys
from chesseval.engine.stockfish import AnalysisLimit, EngineConfig
from chesseval.engine.check import rescore_run
cfg = EngineConfig(path=sys.argv[2], cache_dir=sys.argv[3])
rescore_run(sys.argv[1], AnalysisLimit(nodes=40_000, time=10.0, name="k9"), config=cfg, processes=2)
"""


def test_kill_9_of_the_rescorer_then_resume(stockfish_path: str, tmp_path: Path, sample_puzzles: list[Puzzle]) -> None:
    run = _make_run(tmp_path, sample_puzzles)
    records_before = (run / "records.jsonl").read_bytes()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", _RESCORE_SCRIPT, str(run), stockfish_path, str(tmp_path / "nocache")], env=env, start_new_session=True)
    out = run / ENGINE_FILE
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.read_bytes().count(b"\n") < 3):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the rescorer and its engines, mid-work
    proc.wait()
    partial = read_engine_lines(run)
    assert 3 <= len(partial)
    # simulate the worst case: a torn line at the end
    with open(out, "ab") as fh:
        fh.write(b'{"schema": 1, "puzzle_id": "0')
    stats = rescore_run(run, AnalysisLimit(nodes=40_000, time=10.0, name="k9"), config=_cfg(stockfish_path, tmp_path), processes=2)
    assert stats.skipped >= len(partial) - 1 and stats.errors == 0
    lines = read_engine_lines(run)
    keys = [(ln["puzzle_id"], ln["turn"]) for ln in lines]
    assert len(keys) == len(set(keys)) == stats.moves  # every move once, nothing lost or doubled
    assert all(line.endswith(b"\n") and json.loads(line) for line in out.read_bytes().splitlines(keepends=True))
    assert (run / "records.jsonl").read_bytes() == records_before


def test_rescore_cli_and_engine_check_cli(stockfish_path: str, tmp_path: Path, sample_puzzles: list[Puzzle], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from chesseval.cli import main

    run = _make_run(tmp_path, sample_puzzles[:4])
    monkeypatch.setenv("CHESSEVAL_STOCKFISH", stockfish_path)
    monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["rescore", str(run), "--engine", "nodes=2000,time=5", "--processes", "1"]) == 0
    out = capsys.readouterr().out
    assert "checked now" in out and "lenient" in out and "all" in out
    assert main(["engine", "check", "--limit", "nodes=1000,time=5"]) == 0
    out = capsys.readouterr().out
    assert "Stockfish" in out and "nodes" in out and stockfish_path in out
    monkeypatch.setenv("CHESSEVAL_STOCKFISH", str(tmp_path / "missing"))
    assert main(["engine", "check"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "apt-get install stockfish" in err


def test_run_with_engine_checks_after_the_run_and_rescore_calls_no_model(stockfish_path: str, tmp_path: Path, sample_puzzles: list[Puzzle], monkeypatch: pytest.MonkeyPatch) -> None:
    from chesseval.api import evaluate
    from chesseval.core.runner import RunConfig

    monkeypatch.setenv("CHESSEVAL_STOCKFISH", stockfish_path)
    monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(tmp_path / "cache"))
    puzzles = sample_puzzles[:6]
    csv = tmp_path / "suite.csv"
    with open(csv, "w", encoding="utf-8", newline="") as fh:
        write_lichess_csv(puzzles, fh)
    player = _HalfRightPlayer({p.id: k for k, p in enumerate(puzzles)})
    calls = [0]
    play = player.play

    async def counting(turn: Any) -> Any:
        calls[0] += 1
        return await play(turn)

    player.play = counting  # type: ignore[method-assign]
    result = evaluate(RunConfig(model="test/half-right", suite=str(csv), runs_dir=tmp_path / "runs", engine="quick"), player=player)
    asked = calls[0]
    assert asked > 0
    lines = read_engine_lines(result.path, "quick")
    assert lines and all(ln["error"] is None for ln in lines)
    (result.path / ENGINE_FILE).unlink()
    stats = rescore_run(result.path, "quick", processes=1)
    assert calls[0] == asked  # re-scoring asked the model nothing
    assert stats.checked == len(lines) and stats.searches == 0  # and the engine nothing: all cached
    rows = engine_summary(result.path, 500)
    assert rows[-1].puzzles == 6 and rows[-1].strict_solved == 3 and rows[-1].moves_checked == len(lines)
    results = json.loads((result.path / "results.json").read_text())
    assert results["overall"]["solved"] == 3  # the strict headline is untouched
    engine_all = results["engine"]["quick"]["buckets"][-1]
    assert engine_all["bucket"] == "all" and engine_all["strict_solved"] == 3 and engine_all["moves_checked"] == len(lines)


def test_rescore_needs_no_suite_file_when_records_carry_the_puzzle(stockfish_path: str, tmp_path: Path, sample_puzzles: list[Puzzle]) -> None:
    run = _make_run(tmp_path, sample_puzzles[:4])
    (tmp_path / "suite.csv").unlink()
    stats = rescore_run(run, TINY, config=_cfg(stockfish_path, tmp_path), processes=1)
    assert stats.errors == 0 and stats.checked == stats.moves > 0
