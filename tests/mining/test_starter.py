"""The shipped starter suite: valid, and every solution still proved unique by exhaustive search."""

from __future__ import annotations

import random
from pathlib import Path

import chess

from chesseval.core.puzzles import load_puzzles
from chesseval.mining.starter import find_puzzle, forced_mate_in_two, mating_moves, selfplay_game
from chesseval.core.suites import file_sha256, resolve_suite


def test_manifest_matches_file() -> None:
    suite = resolve_suite("starter")
    assert suite.count == 120 and suite.command and "puzzles starter" in suite.command
    assert suite.sha256 == file_sha256(suite.path)


def test_default_suite_name() -> None:
    # "default" is the rated default suite once built; until then the starter suite stands in.
    has_default = (Path(__file__).resolve().parents[2] / "puzzles" / "default.json").exists()
    assert resolve_suite("default").name == ("default" if has_default else "starter")


def test_every_solution_is_proved_unique() -> None:
    puzzles = load_puzzles(resolve_suite("starter").path)
    assert len(puzzles) >= 100
    for p in puzzles:
        board = p.board()
        mates = mating_moves(board)
        if "mateIn1" in p.themes:
            assert [m.uci() for m in mates] == list(p.solution), p.id
        else:
            assert not mates, p.id
            forced = forced_mate_in_two(board)
            assert [m.uci() for m, _ in forced] == [p.solution[0]], p.id
            board.push_uci(p.solution[0])
            board.push_uci(p.line[1])
            board.push_uci(p.solution[1])
            assert board.is_checkmate(), p.id


def test_generation_is_reproducible() -> None:
    assert selfplay_game(random.Random(5)) == selfplay_game(random.Random(5))


def test_find_puzzle_rejects_two_mates() -> None:
    board = chess.Board("6k1/5ppp/8/8/8/8/1Q6/R5K1 b - - 0 1")
    # After ...h6, White has two mates in one (Ra8#, Qb8#): not a unique puzzle.
    assert find_puzzle(board, chess.Move.from_uci("h7h6")) is None
