"""Verdicts: how one answer and one puzzle attempt are scored, by the Lichess rule.

The rule (lichess-org/lila ``ui/puzzle/src/moveTest.ts``): every solver move must equal the
solution's move; any legal move that checkmates wins the puzzle at once; castling written
king-takes-rook counts as castling; the first wrong move fails. Nothing else is accepted, not even
another winning move — engine-judged alternatives are a separate metric (``chesseval.engine.stockfish``).

A model's mistakes are verdicts, and the kinds are kept apart because they mean different things:
a legal but wrong move is a reasoning failure, an illegal move a board-tracking failure, no move a
format failure, an empty answer a budget failure, a refusal a policy failure, an error a transport
failure.
"""

from __future__ import annotations

import enum

import chess

from chesseval.core.moves import MoveKind, ParsedMove
from chesseval.core.players import Reply, StopReason

__all__ = ["Verdict", "Step", "judge_move", "verdict_of_reply"]


class Verdict(enum.StrEnum):
    """The outcome of a puzzle attempt (and of each turn in it)."""

    CORRECT = "correct"
    """Solved: every solver move matched, or a checkmating move was played."""
    WRONG = "wrong"
    """A legal move that is not the solution."""
    ILLEGAL = "illegal"
    """A specific move that cannot be played in the position."""
    NO_MOVE = "no_move"
    """The answer commits to no (unambiguous) move."""
    EMPTY = "empty"
    """No content, or the answer was cut off (token budget spent) before committing to a move."""
    REFUSED = "refused"
    """The model or its provider refused to answer."""
    ERROR = "error"
    """The call failed after every retry: a transport failure, not the model's answer."""

    @property
    def is_model_answer(self) -> bool:
        """True when the verdict judges something the model said (not a failed call)."""
        return self is not Verdict.ERROR


class Step(enum.StrEnum):
    """What one correct-so-far solver move does to the attempt."""

    CONTINUE = "continue"
    """Matched the solution; the line goes on."""
    SOLVED = "solved"
    """Matched the last solver move, or delivered mate."""
    WRONG = "wrong"


def judge_move(board: chess.Board, move: chess.Move, expected: str, *, is_last: bool, alternatives: tuple[str, ...] = ()) -> Step:
    """Judge one legal solver ``move`` in ``board`` against the ``expected`` UCI move.

    ``alternatives`` are other moves a suite accepts at this point (EPD ``bm`` lists).
    King-takes-rook castling is normalised by ``parse_uci``, so ``e1h1`` equals ``e1g1``.
    """
    if not board.is_legal(move):
        raise ValueError(f"judge_move needs a legal move, got {move.uci()!r} in {board.fen()!r}")
    board.push(move)
    mates = board.is_checkmate()
    board.pop()
    if mates:
        return Step.SOLVED
    accepted = {board.parse_uci(u) for u in (expected, *alternatives)}
    if move in accepted:
        return Step.SOLVED if is_last else Step.CONTINUE
    return Step.WRONG


def verdict_of_reply(reply: Reply, parsed: ParsedMove) -> Verdict | None:
    """The verdict of an answer that has no legal move, or None when ``parsed`` holds a move to judge."""
    if parsed.kind is MoveKind.MOVE:
        return None
    if reply.refusal or reply.stop_reason in (StopReason.REFUSAL, StopReason.CONTENT_FILTER):
        return Verdict.REFUSED
    if not reply.text.strip():
        return Verdict.EMPTY
    if parsed.kind is MoveKind.ILLEGAL:
        return Verdict.ILLEGAL
    if reply.stop_reason == StopReason.MAX_TOKENS:
        # Cut off before committing to a move: the budget ran out, the model did not answer.
        return Verdict.EMPTY
    return Verdict.NO_MOVE  # none or ambiguous
