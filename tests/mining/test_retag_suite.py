"""scripts/retag_suite.py: a mined suite's tags re-derived, goal tags and everything else kept."""

from __future__ import annotations

import json
from pathlib import Path

import chess
import pytest

from chesseval.core.puzzles import Puzzle, RatingSource, load_puzzles
from chesseval.core.suites import write_suite


def test_retag_adds_the_new_tags_keeps_the_goal_and_records_it(load_script, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = load_script("retag_suite")
    # The Legal trap: after ...Bxd1 White mates in two (Bxf7+ Ke7 Nd5#); mined with a stale "fork".
    board = chess.Board()
    for san in "e4 e5 Nf3 d6 Bc4 Bg4 Nc3 g6".split():
        board.push_san(san)
    board.push_san("Nxe5")
    sac = Puzzle(id="legal001", fen=board.fen(), moves=("g4d1", "c4f7", "e8e7", "c3d5"), rating=1200,
                 rating_deviation=200, themes=("crushing", "fork"), game_url="chesseval:test#1",
                 rating_source=RatingSource.ESTIMATED)
    suite = write_suite("t", [sac], tmp_path, version="1", description="test", command="test")
    before = suite.path.read_text(encoding="utf-8")
    assert rs.main(["--suite", str(suite.path)]) == 0  # a dry run writes nothing
    assert suite.path.read_text(encoding="utf-8") == before
    assert rs.main(["--suite", str(suite.path), "--write"]) == 0
    (after,) = load_puzzles(suite.path)
    # The mate is derived from the board, the fork (not a fork here) is dropped, crushing is kept.
    assert {"mate", "mateIn2", "short", "crushing"} <= set(after.themes) and "fork" not in after.themes
    assert (after.id, after.fen, after.moves, after.rating, after.rating_deviation, after.rating_source) == (
        sac.id, sac.fen, sac.moves, sac.rating, sac.rating_deviation, sac.rating_source)
    manifest = json.loads(suite.manifest.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    (record,) = manifest["retagged"]
    assert record["removed"] == {"fork": 1} and record["added"]["mate"] == 1
    assert manifest["command"] == "test"  # the command that made the suite is kept
    assert rs.main(["--suite", str(suite.path), "--write"]) == 0  # nothing left to change: nothing recorded
    assert len(json.loads(suite.manifest.read_text(encoding="utf-8"))["retagged"]) == 1  # type: ignore[union-attr]


def test_sacrifice_on_a_mined_puzzle(load_script) -> None:  # type: ignore[no-untyped-def]
    rs = load_script("retag_suite")
    # From the default suite (22b7ipyp): Nxf7 Rxf7, Ne5 (two points down here), ... Nxf7 wins the rook.
    p = Puzzle(id="22b7ipyp", fen="rnbqk2r/1p3pp1/p2b1n1p/2p1N3/2B1p3/5N2/PP3PPP/R1BQ1RK1 b kq - 1 13",
               moves=("e8g8", "e5f7", "f8f7", "f3e5", "d8c7", "e5f7"), rating=2252, themes=("advantage",),
               game_url="chesseval:test#2", rating_source=RatingSource.ESTIMATED)
    assert "sacrifice" in rs.retag(p).themes and "advantage" in rs.retag(p).themes
    # Cut after the first exchange: one solver move, nothing later to be down at.
    short = Puzzle(id="short001", fen=p.fen, moves=p.moves[:2], rating=1500, themes=(), game_url="chesseval:test#3",
                   rating_source=RatingSource.ESTIMATED)
    assert "sacrifice" not in rs.retag(short).themes


def test_an_unknown_suite_is_one_line_and_nothing_is_written(load_script, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = load_script("retag_suite")
    with pytest.raises(SystemExit) as info:
        rs.main(["--suite", str(tmp_path / "nope.csv"), "--write"])
    message = str(info.value)
    assert message.startswith("error: unknown suite") and "nope.csv" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []
