"""The Lichess rule, turn by turn, and verdicts kept apart."""

from __future__ import annotations

import chess
import pytest

from chesseval.core.judge import Step, Verdict, judge_move, verdict_of_reply
from chesseval.core.moves import MoveKind, ParsedMove
from chesseval.core.players import Reply, StopReason


def test_exact_move_continues_or_solves() -> None:
    board = chess.Board("q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17")
    board.push_uci("e8d7")
    assert judge_move(board, chess.Move.from_uci("a2e6"), "a2e6", is_last=False) is Step.CONTINUE
    assert judge_move(board, chess.Move.from_uci("a2e6"), "a2e6", is_last=True) is Step.SOLVED
    assert judge_move(board, chess.Move.from_uci("f7g7"), "a2e6", is_last=False) is Step.WRONG


def test_any_mate_wins() -> None:
    # White to move: Ra8# and Qb8#... here two mates in one; the solution names one.
    board = chess.Board("6k1/5ppp/8/8/8/8/1Q6/R5K1 w - - 0 1")
    assert judge_move(board, chess.Move.from_uci("b2b8"), "a1a8", is_last=True) is Step.SOLVED
    assert judge_move(board, chess.Move.from_uci("a1a8"), "a1a8", is_last=True) is Step.SOLVED
    # A mate also wins when the solution line is longer (moveTest.ts: '#' wins at once).
    assert judge_move(board, chess.Move.from_uci("b2b8"), "a1a7", is_last=False) is Step.SOLVED


def test_non_mating_alternative_is_wrong_even_if_winning() -> None:
    board = chess.Board("6k1/5ppp/8/8/8/8/1Q6/R5K1 w - - 0 1")
    assert judge_move(board, chess.Move.from_uci("b2b7"), "a1a8", is_last=True) is Step.WRONG


def test_castling_king_takes_rook() -> None:
    board = chess.Board("r3k2r/pppq1ppp/8/8/8/8/PPPQ1PPP/R3K2R w KQkq - 0 1")
    kxr = board.parse_uci("e1h1")  # python-chess normalises king-takes-rook to e1g1
    assert judge_move(board, kxr, "e1g1", is_last=True) is Step.SOLVED
    assert judge_move(board, chess.Move.from_uci("e1g1"), "e1h1", is_last=True) is Step.SOLVED
    assert judge_move(board, chess.Move.from_uci("e1c1"), "e1g1", is_last=True) is Step.WRONG


def test_alternatives() -> None:
    board = chess.Board()
    assert judge_move(board, chess.Move.from_uci("d2d4"), "e2e4", is_last=True, alternatives=("d2d4",)) is Step.SOLVED


def test_illegal_move_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="legal move"):
        judge_move(chess.Board(), chess.Move.from_uci("e2e5"), "e2e4", is_last=True)


@pytest.mark.parametrize(
    ("reply", "kind", "verdict"),
    [
        (Reply(text="Answer: Nf3"), MoveKind.MOVE, None),
        (Reply(text=""), MoveKind.NONE, Verdict.EMPTY),
        (Reply(text="   ", stop_reason=StopReason.MAX_TOKENS), MoveKind.NONE, Verdict.EMPTY),
        (Reply(text="Let me think about the knight on", stop_reason=StopReason.MAX_TOKENS), MoveKind.NONE, Verdict.EMPTY),
        (Reply(text="I think it is a nice position."), MoveKind.NONE, Verdict.NO_MOVE),
        (Reply(text="Answer: Nd2"), MoveKind.AMBIGUOUS, Verdict.NO_MOVE),
        (Reply(text="Answer: Ke5"), MoveKind.ILLEGAL, Verdict.ILLEGAL),
        (Reply(text="", refusal="I can't help"), MoveKind.NONE, Verdict.REFUSED),
        (Reply(text="", stop_reason=StopReason.CONTENT_FILTER), MoveKind.NONE, Verdict.REFUSED),
    ],
)
def test_verdict_of_reply(reply: Reply, kind: MoveKind, verdict: Verdict | None) -> None:
    parsed = ParsedMove(kind, chess.Move.from_uci("g1f3") if kind is MoveKind.MOVE else None)
    assert verdict_of_reply(reply, parsed) == verdict
