"""Prompts: every format states side to move and the opponent's last move, and is versioned."""

from __future__ import annotations

import chess
import pytest

from chesseval.core.prompts import TEMPLATE_ID, PromptFormat, PromptOptions, render_board, render_follow_up, render_prompt
from chesseval.core.puzzles import Puzzle

P = Puzzle(
    id="00sHx",
    fen="q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17",
    moves=("e8d7", "a2e6", "d7d8", "f7f8"),
    rating=1760,
)


@pytest.mark.parametrize("fmt", list(PromptFormat))
def test_prompt_states_side_and_last_move(fmt: PromptFormat) -> None:
    prompt = render_prompt(P, fmt)
    user = prompt.messages[-1]["content"]
    assert "You play White" in user and "White's move" in user
    assert "Kd7 (e8d7)" in user
    assert user.rstrip().endswith("Answer: <move>")
    assert prompt.template_id == TEMPLATE_ID
    assert len(prompt.sha256) == 64


def test_fen_prompt_shows_position_after_setup_move() -> None:
    user = render_prompt(P, "fen").messages[-1]["content"]
    board = P.board()
    assert board.fen() in user
    assert P.fen not in user


def test_pgn_prompt_has_setup_headers_and_move() -> None:
    user = render_prompt(P, "pgn").messages[-1]["content"]
    assert f'[FEN "{P.fen}"]' in user and '[SetUp "1"]' in user
    assert "17... Kd7" in user


def test_board_prompt_labels() -> None:
    text = render_board(P.board())
    assert text.splitlines()[-1].split() == list("abcdefgh")
    assert text.splitlines()[1].startswith("8 |")
    user = render_prompt(P, "board").messages[-1]["content"]
    assert "Castling rights" in user


def test_legal_moves_switch_changes_hash() -> None:
    a = render_prompt(P, "fen")
    b = render_prompt(P, "fen", PromptOptions(legal_moves=True))
    assert "Legal moves:" in b.messages[-1]["content"] and "Be6+" in b.messages[-1]["content"]
    assert a.sha256 != b.sha256


def test_follow_up() -> None:
    board = P.board()
    board.push_uci("a2e6")
    msg = render_follow_up(P, board, chess.Move.from_uci("d7d8"), "fen")
    assert msg["role"] == "user"
    assert "Kd8 (d7d8)" in msg["content"]
    after = board.copy()
    after.push_uci("d7d8")
    assert after.fen() in msg["content"]
    assert board.turn == chess.BLACK  # not mutated


def test_no_setup_move() -> None:
    p = Puzzle(id="e", fen="6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1", moves=("a1a8",), has_setup_move=False)
    user = render_prompt(p, "fen").messages[-1]["content"]
    assert "has just played" not in user and "You play White" in user
