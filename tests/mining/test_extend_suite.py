"""scripts/extend_suite.py: which puzzles of a further build join a mined suite."""

from __future__ import annotations

from chesseval.core.puzzles import Puzzle

START = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"
OTHER = "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1"
THIRD = "rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2"


def _pz(pid: str, fen: str, rating: int | None) -> Puzzle:
    return Puzzle(id=pid, fen=fen, moves=("e2e4", "e7e5") if fen == START else ("e7e5", "g1f3") if fen == OTHER else ("g1f3", "b8c6"),
                  rating=rating)


def test_only_new_positions_at_or_above_the_threshold_join(load_script) -> None:
    ext = load_script("extend_suite")
    suite = [_pz("s1", START, 2500)]
    extra = [
        _pz("x3", OTHER, 2300),             # joins
        _pz("x1", START, 2600),             # a position the suite already holds
        _pz("x2", THIRD, 2199),             # below the threshold
        _pz("x4", OTHER, 2400),             # the same position as x3: one per position, lowest id first
        _pz("s1", THIRD, 2450),             # an id the suite already holds
        _pz("x5", THIRD, None),             # unrated
        _pz("x6", THIRD, 2200),             # joins (the threshold is inclusive)
    ]
    got = ext.select_extension(suite, extra, 2200)
    assert [p.id for p in got] == ["x3", "x6"]
    assert ext.select_extension(suite, extra, 2700) == []
    assert [p.id for p in ext.select_extension(suite, extra, 2200, frozenset({"x3"}))] == ["x4", "x6"]  # a failed one stays out
