"""scripts/verify_suite.py: the miner's only-move test at every solver move, resumable, and --apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chesseval.core.puzzles import Puzzle, RatingSource, load_puzzles
from chesseval.core.suites import file_sha256, write_suite
from chesseval.mining.miner import LineBuilder, MiningConfig, open_engine

NODES = 20_000


def _pz(pid: str, fen: str, moves: str, rating: int) -> Puzzle:
    return Puzzle(id=pid, fen=fen, moves=tuple(moves.split()), rating=rating, themes=("test",),
                  game_url=f"chesseval:test#{pid}", rating_source=RatingSource.ESTIMATED)


# From the default suite: a mate in one whose best non-mate is lost, and a two-move win.
MATE = _pz("25mnsrzq", "k1r5/p1bR1p2/2P1pp2/2N5/8/1Q5p/4KP2/6q1 b - - 3 51", "h3h2 b3b7", 782)
WIN = _pz("22gkmban", "6k1/3p1ppp/4pq2/1P1n4/8/3BPK1P/P1Q2PP1/3r2NR w - - 13 31", "f3e2 d5c3 c2c3 f6c3", 1300)
# After 1.e4, 1...e5 is one good move among many: not an only move.
OPENING = _pz("notonly1", "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", "e2e4 e7e5", 1000)
# The "solution" hangs the queen: the engine's best move is another one.
WRONG = _pz("wrongmv1", "k1r5/p1bR1p2/2P1pp2/2N5/8/1Q5p/4KP2/6q1 b - - 3 51", "h3h2 b3b6", 900)


@pytest.fixture
def builder(stockfish_path: str):  # type: ignore[no-untyped-def]
    engine = open_engine(stockfish_path)
    yield LineBuilder(engine, MiningConfig(nodes=NODES), game_key="verify-test")
    engine.quit()


def test_every_solver_move_gets_the_miners_test(load_script, builder: LineBuilder) -> None:
    vs = load_script("verify_suite")
    mate = vs.verify_puzzle(builder, MATE)
    assert [c.ply for c in mate] == [1] and mate[0].passed and mate[0].best_score == "#+1"
    win = vs.verify_puzzle(builder, WIN)
    assert [c.ply for c in win] == [1, 3] and all(c.passed for c in win)
    assert all(c.gap is not None and c.gap > 0.7 for c in win)
    opening = vs.verify_puzzle(builder, OPENING)
    assert len(opening) == 1 and not opening[0].only_move and opening[0].gap < 0.7 and not opening[0].passed
    wrong = vs.verify_puzzle(builder, WRONG)
    assert wrong[0].only_move and not wrong[0].best_is_solution and wrong[0].best == "b3b7" and not wrong[0].passed


def test_verify_resumes_from_its_cache_and_apply_drops_failures(load_script, stockfish_path: str, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    vs = load_script("verify_suite")
    write_suite("mini", [MATE, OPENING, WIN, WRONG], tmp_path, version="1", command="chesseval puzzles build-suite --test",
                description="4 puzzles mined by a test.", extra={"generator": {"seed": 1}})
    suite, cache = tmp_path / "mini.csv", tmp_path / "cache"
    common = ["--suite", str(suite), "--nodes", str(NODES), "--cache", str(cache), "--nice", "0"]

    assert vs.main([*common, "--limit", "2"]) == 0
    first = capsys.readouterr().out
    assert first.count("] ") == 2 and "1 passed, 1 failed" in first
    with pytest.raises(SystemExit):
        vs.main([*common, "--limit", "2", "--apply"])  # --limit never rewrites the suite
    capsys.readouterr()

    # --partial searches nothing: it drops the failure found so far, the rest stays unchecked.
    assert vs.main([*common, "--apply", "--partial"]) == 0
    assert "] " not in capsys.readouterr().out
    assert [p.id for p in load_puzzles(suite)] == [MATE.id, WIN.id, WRONG.id]
    v = json.loads((tmp_path / "mini.json").read_text())["verification"]
    assert (v["checked"], v["failed"], v["unchecked"], v["complete"]) == (2, 1, 2, False)
    assert json.loads((tmp_path / "mini.json").read_text())["description"].endswith("1 dropped; 2 not verified yet.")

    assert vs.main([*common, "--apply"]) == 0
    out = capsys.readouterr().out
    assert out.count("] ") == 2  # only the two puzzles not cached yet were searched
    assert "2 passed, 1 failed" in out  # of the 3 left in the suite
    assert [p.id for p in load_puzzles(suite)] == [MATE.id, WIN.id]
    manifest = json.loads((tmp_path / "mini.json").read_text())
    v = manifest["verification"]
    # cumulative: the puzzle dropped by the partial application still counts
    assert (v["checked"], v["passed"], v["failed"], v["unchecked"], v["complete"]) == (4, 2, 2, 0, True)
    assert v["dropped_ids"] == sorted([OPENING.id, WRONG.id])
    assert v["nodes"] == NODES and v["multipv"] == 2 and v["engine"].startswith("Stockfish") and v["date"]
    assert manifest["count"] == 2 and manifest["sha256"] == file_sha256(suite)
    assert manifest["generator"] == {"seed": 1} and manifest["command"] == "chesseval puzzles build-suite --test"
    assert manifest["description"] == ("2 puzzles mined by a test. Re-verified at 20,000 nodes, MultiPV 2, at every "
                                       "solver move: 2 of 4 passed, 2 dropped.")

    # Applying again on the verified suite searches nothing and keeps the figures.
    assert vs.main([*common, "--apply"]) == 0
    assert "] " not in capsys.readouterr().out
    again = json.loads((tmp_path / "mini.json").read_text())
    assert (again["verification"]["checked"], again["verification"]["failed"]) == (4, 2)
    assert again["description"] == manifest["description"]
